// One fuzz input: a raw datagram in the Linux emulation's wire form, the descriptors to attach to it (made fresh
// at send time) and where it goes. Built only from (seed, index), so any iteration can be shown or replayed alone.
namespace MachTransport.Fuzz;

/// <summary>Where a fuzz message is sent.</summary>
internal enum FuzzTarget
{
    /// <summary>The service port (as a client's CONNECT).</summary>
    Service,

    /// <summary>The server's port of a connection the fuzzer established (as a client's DATA, CREDIT, FIN, ABORT).</summary>
    Connection,
}

/// <summary>The message shapes of docs/protocol.md, plus two that are none of them.</summary>
internal enum Shape
{
    Connect,
    Accept,
    Reject,
    DataInline,
    DataOutOfLine,
    Credit,
    Fin,
    Abort,
    DeadNameNotification,
    Garbage,
}

/// <summary>A generated input. <see cref="Mutations"/> names what was done to the valid shape (empty: sent as is).</summary>
internal sealed record FuzzCase(
    long Seed,
    long Index,
    FuzzTarget Target,
    bool FreshConnection,
    Shape Shape,
    byte[] Datagram,
    IReadOnlyList<FdSpec> Attachments,
    IReadOnlyList<string> Mutations)
{
    public string Describe()
        => $"seed={Seed} index={Index} target={Target}{(FreshConnection ? " (fresh connection)" : string.Empty)} shape={Shape} "
            + $"bytes={Datagram.Length} fds=[{string.Join(", ", Attachments)}] mutations=[{string.Join("; ", Mutations)}]";
}
