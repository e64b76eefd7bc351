using MachTransport.Channel;

namespace MachTransport.Server;

/// <summary>Options of the Mach transport for Kestrel (set with <c>UseMachTransport(options => ...)</c>).</summary>
public sealed class MachTransportOptions
{
    /// <summary>Default <see cref="InlineThreshold"/>: 64 KiB, above one full HTTP/2 frame, measured (docs/protocol.md).</summary>
    public const int DefaultInlineThreshold = 64 * 1024;

    /// <summary>Bytes a client may send ahead of what the application has read (the read window). Default 1 MiB.</summary>
    public long MaxReadBufferSize { get; set => field = ChannelLimits.ReadBufferSize(value); } = 1024 * 1024;

    /// <summary>Bytes the application may write ahead of what has been sent before its writes wait. Default 64 KiB.</summary>
    public long MaxWriteBufferSize { get; set => field = ChannelLimits.WriteBufferSize(value); } = 64 * 1024;

    /// <summary>Payloads up to this many bytes travel inside the message; larger ones out of line (at most 64 KiB).</summary>
    public int InlineThreshold { get; set => field = ChannelLimits.InlineThreshold(value); } = DefaultInlineThreshold;

    /// <summary>Queue limit of each connection port (2..1024); half of it is the DATA message window. Default 1024.</summary>
    public int QueueLimit { get; set => field = ChannelLimits.QueueLimit(value); } = 1024;

    /// <summary>
    /// Connections open at once per listener; more are rejected (REJECT "server busy"). Default: on Linux what the
    /// process's open-file limit (RLIMIT_NOFILE) allows at about 3 descriptors per connection, less 256 descriptors
    /// of headroom; at most 10,000.
    /// </summary>
    public int MaxConnections { get; set => field = ChannelLimits.Positive(value, nameof(MaxConnections)); } = ConnectionBudget.DefaultMaxConnections;

    /// <summary>Connections one peer process may have open at once per listener; more are rejected (REJECT "server busy"). Default 1,024.</summary>
    public int MaxConnectionsPerPeerProcess { get; set => field = ChannelLimits.Positive(value, nameof(MaxConnectionsPerPeerProcess)); } = 1024;

    /// <summary>Connections the processes of one user may have open at once per listener; more are rejected (REJECT "server busy"). Default 4,096.</summary>
    public int MaxConnectionsPerUser { get; set => field = ChannelLimits.Positive(value, nameof(MaxConnectionsPerUser)); } = 4096;

    /// <summary>
    /// Decides whether a peer may connect, from the kernel's identity of its process. Default: the same effective
    /// user as this process (<see cref="SameUser"/>). A rejected client gets a <c>MachConnectionRejectedException</c>.
    /// </summary>
    public Func<MachPeerCredentials, bool> PeerPolicy { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = SameUser;

    /// <summary>The default policy: the peer runs as this process's effective user.</summary>
    public static bool SameUser(MachPeerCredentials peer) => peer.Uid == ProcessIdentity.EffectiveUid;
}
