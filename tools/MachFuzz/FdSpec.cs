// The descriptors a fuzz message can carry in SCM_RIGHTS: real port rights of several kinds and things that are no
// port right or no sealed memory at all. Described as data (kind and size) so a case stays reproducible.
namespace MachTransport.Fuzz;

internal enum FdKind
{
    /// <summary>The O_PATH of a fresh port of the fuzzer's (a valid send right).</summary>
    LivePort,

    /// <summary>The O_PATH of a port the fuzzer destroyed.</summary>
    DeadPort,

    /// <summary>The O_PATH of the service port itself (the server would answer itself).</summary>
    ServicePort,

    /// <summary>The O_PATH of the server's port of the fuzzer's current connection.</summary>
    ConnectionPort,

    /// <summary>A memfd of <see cref="FdSpec.Size"/> bytes sealed as the emulation requires.</summary>
    SealedMemfd,

    /// <summary>A memfd without any seal.</summary>
    UnsealedMemfd,

    /// <summary>A memfd sealed against shrinking and growing but still writable.</summary>
    WritableMemfd,

    /// <summary>A regular (unlinked) file: it cannot carry seals.</summary>
    RegularFile,
    PipeEnd,
    EventFd,
    Epoll,
    DevNull,

    /// <summary>An O_PATH descriptor that is no socket.</summary>
    PathOfDevNull,
    UnixStream,
    UnixDatagram,

    /// <summary>One end of a connected SEQPACKET pair (what a holder's connection is).</summary>
    SeqPacketEnd,

    /// <summary>The listener of a port the fuzzer made (without its O_PATH): half of a receive right.</summary>
    ForeignListener,
    TcpSocket,
    UdpSocket,
}

/// <summary>One descriptor to attach; <see cref="Size"/> is a memfd's or file's length.</summary>
internal readonly record struct FdSpec(FdKind Kind, long Size = 0)
{
    public override string ToString() => Size == 0 ? Kind.ToString() : $"{Kind}({Size})";
}
