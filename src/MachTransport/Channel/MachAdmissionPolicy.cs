namespace MachTransport.Channel;

/// <summary>
/// Whom a <see cref="MachAcceptor"/> admits: peers <see cref="IsAllowed"/> lets in, while the connection limits
/// (<see cref="MachPeerAccounting"/>) have room. Taken once when the acceptor binds, as Kestrel takes its options.
/// </summary>
/// <param name="IsAllowed">The peer policy, from the kernel's identity of the peer process; an exception rejects.</param>
/// <param name="MaxConnections">Connections open at once in all.</param>
/// <param name="MaxConnectionsPerPeerProcess">Connections one peer process may have open at once.</param>
/// <param name="MaxConnectionsPerUser">Connections the processes of one user may have open at once.</param>
internal sealed record MachAdmissionPolicy(
    Func<MachPeerIdentity, bool> IsAllowed,
    int MaxConnections,
    int MaxConnectionsPerPeerProcess,
    int MaxConnectionsPerUser);
