using System.Buffers.Binary;

namespace MachTransport.Channel;

/// <summary>
/// The wire protocol of a Mach channel (docs/protocol.md): message ids, the version, the fixed layouts of
/// the inline bodies and the reasons carried by REJECT and ABORT. All integers are little-endian u32.
/// </summary>
internal static class MachProtocol
{
    /// <summary>The one protocol version this build speaks.</summary>
    public const uint Version = 1;

    // "MT" in the high half keeps the ids clear of MIG subsystems and of the notification ids (64..77).
    public const int Connect = 0x4D54_0001;
    public const int Accept = 0x4D54_0002;
    public const int Reject = 0x4D54_0003;
    public const int Data = 0x4D54_0010;
    public const int Credit = 0x4D54_0011;
    public const int Fin = 0x4D54_0012;
    public const int Abort = 0x4D54_0013;

    /// <summary>Largest inline DATA payload any peer may announce; receive buffers are sized from it.</summary>
    public const int MaxInlinePayload = 64 * 1024;

    /// <summary>
    /// Smallest inline maximum a peer may announce: a page, so every out-of-line region it makes us send is larger than
    /// a page and the pages it pins are less than twice the bytes charged to its window.
    /// </summary>
    public const int MinInlinePayload = 4096;

    /// <summary>Largest byte window a peer may announce: what the other side may keep in flight to it (and pin) per connection.</summary>
    public const uint MaxByteWindow = 16 * 1024 * 1024;

    /// <summary>Largest message window a peer may announce: half of the largest port queue (MACH_PORT_QLIMIT_MAX).</summary>
    public const uint MaxMessageWindow = Mach.Abi.MachPort.QueueLimitMax / 2;

    /// <summary>Header (24) + body count (4) + one 16-byte descriptor + the largest fixed body: room for every non-DATA message.</summary>
    public const int MaxControlMessage = 24 + 4 + 16 + 256;

    /// <summary>Largest message a well-behaved peer sends, plus the audit trailer.</summary>
    public const int ReceiveBufferSize = 24 + 4 + MaxInlinePayload + 4 + 68;

    /// <summary>Longest REJECT text, in UTF-8 bytes.</summary>
    public const int MaxRejectText = 200;

    public const int ConnectBodySize = 20;
    public const int AcceptBodySize = 16;
    public const int CreditBodySize = 8;
    public const int DataPrefixSize = 4;

    public static uint ReadU32(ReadOnlySpan<byte> body, int index) => BinaryPrimitives.ReadUInt32LittleEndian(body[(index * 4)..]);

    public static void WriteU32(Span<byte> body, int index, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(body[(index * 4)..], value);
}

/// <summary>Why a server refused a CONNECT (REJECT body) or a side gave up on a connection (ABORT body).</summary>
internal enum MachCloseReason : uint
{
    None = 0,
    VersionMismatch = 1,
    PeerNotAllowed = 2,
    ServerBusy = 3,
    ShuttingDown = 4,
    ProtocolError = 5,
    LocalAbort = 6,
    ResourceFailure = 7,
    Stalled = 8,
}
