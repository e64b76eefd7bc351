using MachTransport.Channel;
using MachTransport.Infrastructure;
using MachTransport.Server;

namespace MachTransport;

/// <summary>
/// Options of the Mach transport for Kestrel (set with <c>UseMachTransport(options => ...)</c>). A listener reads the
/// limits and the peer policy once, when it binds: later changes apply to listeners bound after them.
/// </summary>
public sealed class MachTransportOptions
{
    /// <summary>Limits of each connection: read and write buffers, the inline threshold, the port's queue.</summary>
    public MachConnectionLimits Limits { get; } = new();

    private int? _maxConnectionsPerPeerProcess;

    /// <summary>
    /// Connections open at once per listener; more are rejected (REJECT "server busy"). Default: on Linux what the
    /// process's open-file limit (RLIMIT_NOFILE) allows at 9 descriptors per connection once 384 are set aside (256 for
    /// the process itself, 128 the emulation's reserve), at most 10,000; on macOS 10,000.
    /// </summary>
    public int MaxConnections { get; set => field = OptionGuard.Positive(value, nameof(MaxConnections)); } = ConnectionBudget.DefaultMaxConnections;

    /// <summary>
    /// Connections one peer process may have open at once per listener; more are rejected (REJECT "server busy").
    /// Default: a quarter of <see cref="MaxConnections"/>, at least 1 and at most 16 (no three processes can take every
    /// connection, and one peer process that fills every window makes the transport hold under 64 MiB). Raise it for a
    /// peer that multiplexes many clients of its own, such as <c>machctl bridge</c>.
    /// </summary>
    public int MaxConnectionsPerPeerProcess
    {
        get => _maxConnectionsPerPeerProcess ?? ConnectionBudget.PerPeerProcess(MaxConnections);
        set => _maxConnectionsPerPeerProcess = OptionGuard.Positive(value, nameof(MaxConnectionsPerPeerProcess));
    }

    /// <summary>Connections the processes of one user may have open at once per listener; more are rejected (REJECT "server busy"). Default 4,096.</summary>
    public int MaxConnectionsPerUser { get; set => field = OptionGuard.Positive(value, nameof(MaxConnectionsPerUser)); } = 4096;

    /// <summary>
    /// Decides whether a peer may connect, from the kernel's identity of its process. Default: the same effective
    /// user as this process (<see cref="SameUser"/>). A rejected client gets a <c>MachConnectionRejectedException</c>.
    /// </summary>
    public Func<MachPeerCredentials, bool> PeerPolicy { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = SameUser;

    /// <summary>The default policy: the peer runs as this process's effective user.</summary>
    public static bool SameUser(MachPeerCredentials peer) => peer.Uid == ProcessIdentity.EffectiveUid;

    /// <summary>What a listener bound under these options admits (the policy and limits as they are now).</summary>
    internal MachAdmissionPolicy AdmissionPolicy()
    {
        Func<MachPeerCredentials, bool> policy = PeerPolicy;
        return new MachAdmissionPolicy(
            peer => policy(new MachPeerCredentials(peer.Pid, peer.Uid, peer.Gid)),
            MaxConnections,
            MaxConnectionsPerPeerProcess,
            MaxConnectionsPerUser);
    }
}
