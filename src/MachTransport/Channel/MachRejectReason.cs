namespace MachTransport;

/// <summary>Why a Mach server refused a connection: the reason code of its REJECT message (docs/protocol.md).</summary>
public enum MachRejectReason
{
    /// <summary>No reason given (an exception made without one).</summary>
    Unspecified = 0,

    /// <summary>The server speaks another protocol version.</summary>
    VersionMismatch = 1,

    /// <summary>The server's peer policy does not admit this process (<c>MachTransportOptions.PeerPolicy</c>).</summary>
    PeerNotAllowed = 2,

    /// <summary>The server is at a connection limit (in total, per user or per peer process); try again later.</summary>
    ServerBusy = 3,

    /// <summary>The server stopped taking connections: it is shutting down.</summary>
    ShuttingDown = 4,

    /// <summary>The connection request was malformed.</summary>
    ProtocolError = 5,

    /// <summary>The server lacked a resource (a port) for the connection; try again later.</summary>
    ResourceFailure = 7,
}
