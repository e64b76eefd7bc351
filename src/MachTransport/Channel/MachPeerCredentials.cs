namespace MachTransport.Channel;

/// <summary>The identity the kernel reported for the peer's first message (audit trailer / SCM_CREDENTIALS).</summary>
internal readonly record struct MachPeerCredentials(int Pid, uint Uid, uint Gid);
