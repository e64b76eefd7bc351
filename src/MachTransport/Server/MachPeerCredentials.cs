namespace MachTransport;

/// <summary>The peer process of a connection, as the kernel reported it at the handshake.</summary>
/// <param name="Pid">Process id.</param>
/// <param name="Uid">Effective user id.</param>
/// <param name="Gid">Effective group id.</param>
public readonly record struct MachPeerCredentials(int Pid, uint Uid, uint Gid);
