namespace MachTransport.Channel;

/// <summary>The bounds every channel setting must respect, checked where options are set so bad input fails at once.</summary>
internal static class ChannelLimits
{
    /// <summary>The largest inline payload the protocol allows (docs/protocol.md).</summary>
    public const int MaxInline = 64 * 1024;

    public static long ReadBufferSize(long value) => value is >= 1 and <= int.MaxValue
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxReadBufferSize must be between 1 byte and 2 GiB.");

    public static long WriteBufferSize(long value) => value >= 1
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxWriteBufferSize must be at least 1 byte.");

    public static int InlineThreshold(int value) => value is >= 0 and <= MaxInline
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"InlineThreshold must be between 0 and {MaxInline} bytes.");

    /// <summary>At least 2 (half of it is the message window), at most <c>MACH_PORT_QLIMIT_MAX</c>.</summary>
    public static int QueueLimit(int value) => value is >= 2 and <= (int)Mach.Abi.MachPort.QueueLimitMax
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "QueueLimit must be between 2 and 1024 (MACH_PORT_QLIMIT_MAX).");

    public static int Positive(int value, string what) => value >= 1
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"{what} must be at least 1.");

    public static TimeSpan Timeout(TimeSpan value, string what) => value > TimeSpan.Zero || value == System.Threading.Timeout.InfiniteTimeSpan
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"{what} must be positive or infinite.");
}
