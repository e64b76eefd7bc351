namespace MachTransport.Channel;

/// <summary>
/// An acceptor's open connections counted by peer process, by user and in all, and the client ports in use, so no
/// one same-user client can take every connection (and the descriptors they cost) and no client port serves two.
/// </summary>
internal sealed class MachPeerAccounting(MachAdmissionPolicy policy)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, int> _byPid = [];
    private readonly Dictionary<uint, int> _byUid = [];
    private readonly HashSet<uint> _clientPorts = [];
    private int _total;

    /// <summary>Takes a slot for a connection of <paramref name="peer"/> from <paramref name="clientPort"/>, or says why not.</summary>
    public MachCloseReason TryAdmit(MachPeerIdentity peer, uint clientPort, out string detail)
    {
        lock (_lock)
        {
            if (_clientPorts.Contains(clientPort))
            {
                detail = "a CONNECT carrying a client port that is already connected";
                return MachCloseReason.ProtocolError;
            }

            detail = _total >= policy.MaxConnections ? $"{policy.MaxConnections} connections open"
                : _byPid.GetValueOrDefault(peer.Pid) >= policy.MaxConnectionsPerPeerProcess ? $"pid {peer.Pid} has {policy.MaxConnectionsPerPeerProcess} connections open"
                : _byUid.GetValueOrDefault(peer.Uid) >= policy.MaxConnectionsPerUser ? $"uid {peer.Uid} has {policy.MaxConnectionsPerUser} connections open"
                : !ConnectionBudget.HasDescriptorsForOneMore() ? "the descriptor table is at its reserve"
                : string.Empty;
            if (detail.Length > 0)
            {
                return MachCloseReason.ServerBusy;
            }

            _clientPorts.Add(clientPort);
            _byPid[peer.Pid] = _byPid.GetValueOrDefault(peer.Pid) + 1;
            _byUid[peer.Uid] = _byUid.GetValueOrDefault(peer.Uid) + 1;
            _total++;
            return MachCloseReason.None;
        }
    }

    /// <summary>Gives back the slot <see cref="TryAdmit"/> took.</summary>
    public void Release(MachPeerIdentity peer, uint clientPort)
    {
        lock (_lock)
        {
            _clientPorts.Remove(clientPort);
            Decrement(_byPid, peer.Pid);
            Decrement(_byUid, peer.Uid);
            _total--;
        }
    }

    private static void Decrement<TKey>(Dictionary<TKey, int> counts, TKey key)
        where TKey : notnull
    {
        if (--counts[key] == 0)
        {
            counts.Remove(key);
        }
    }
}
