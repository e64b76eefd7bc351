using MachTransport.Channel;
using MachTransport.Infrastructure;

namespace MachTransport;

/// <summary>
/// The limits of each Mach connection, the same for servers (<c>MachTransportOptions.Limits</c>) and clients
/// (<c>MachClientOptions.Limits</c>). Each side applies its own: what it may buffer, when its payloads go out of line.
/// A value out of range throws when it is set, so a bad configuration fails at startup.
/// </summary>
public sealed class MachConnectionLimits
{
    /// <summary>Default <see cref="InlineThreshold"/>: 64 KiB, above one full HTTP/2 frame, measured (docs/protocol.md).</summary>
    public const int DefaultInlineThreshold = 64 * 1024;

    /// <summary>
    /// Bytes the peer may send ahead of what the application has read (the read window, announced to the peer), as
    /// Kestrel's socket transport's option of this name: 1 byte..16 MiB, default 1 MiB. Null means no limit of this
    /// side's own, which for Mach is the protocol's largest window, 16 MiB (a peer can never send more ahead).
    /// </summary>
    public long? MaxReadBufferSize
    {
        get;
        set => field = value is null or (>= 1 and <= MachProtocol.MaxByteWindow)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"MaxReadBufferSize must be between 1 byte and {MachProtocol.MaxByteWindow / (1024 * 1024)} MiB, or null for the largest.");
    } = 1024 * 1024;

    /// <summary>
    /// Bytes the application may write ahead of what has been sent before its writes wait, as Kestrel's socket
    /// transport's option of this name: default 64 KiB, null for no limit (writes never wait; what a peer that takes
    /// nothing holds is then bounded only by <see cref="CreditStallTimeout"/>).
    /// </summary>
    public long? MaxWriteBufferSize
    {
        get;
        set => field = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxWriteBufferSize must be at least 1 byte, or null for no limit.");
    } = 64 * 1024;

    /// <summary>Payloads up to this many bytes travel inside the message, larger ones out of line. 0..64 KiB, default 64 KiB.</summary>
    public int InlineThreshold
    {
        get;
        set => field = value is >= 0 and <= MachProtocol.MaxInlinePayload
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"InlineThreshold must be between 0 and {MachProtocol.MaxInlinePayload} bytes.");
    } = DefaultInlineThreshold;

    /// <summary>
    /// How long this side waits, with data to send, for a peer that grants no credit or takes no message before it
    /// closes the connection (ABORT 8): what a peer that stopped reading holds (this side's buffers, the application's
    /// pending writes) is held at most this long. Positive or infinite, default 30 s.
    /// </summary>
    public TimeSpan CreditStallTimeout { get; set => field = OptionGuard.Timeout(value, nameof(CreditStallTimeout)); } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the frames of an HTTP/2 client's request body may wait to be gathered into one out-of-line message
    /// (docs/performance.md, "Uploads out of line"): 1 ms. Not public: tests set it to tell gathering from the deadline.
    /// </summary>
    internal TimeSpan UploadGatherDeadline { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Queue limit of the connection's receive port; half of it is the DATA message window. 2..1024, default 1024.</summary>
    public int QueueLimit
    {
        get;
        set => field = value is >= 2 and <= (int)Mach.Abi.MachPort.QueueLimitMax
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "QueueLimit must be between 2 and 1024 (MACH_PORT_QLIMIT_MAX).");
    } = 1024;
}
