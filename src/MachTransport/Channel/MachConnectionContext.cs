using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace MachTransport.Channel;

/// <summary>
/// One Mach connection as ASP.NET Core's connection abstractions see it, on either side: an accepted one for Kestrel
/// (the local endpoint is the service) and a client's from <c>MachConnectionFactory</c> (the remote endpoint is the
/// service). Either way the peer's kernel-verified credentials are a feature. The context is its own feature set.
/// </summary>
internal sealed class MachConnectionContext : ConnectionContext,
    IConnectionIdFeature,
    IConnectionTransportFeature,
    IConnectionItemsFeature,
    IConnectionLifetimeFeature,
    IConnectionEndPointFeature,
    IMemoryPoolFeature,
    IMachPeerCredentialsFeature
{
    private IDictionary<object, object?>? _items;

    /// <summary>
    /// A context over <paramref name="channel"/>. A Mach client has no name of its own, so the client's end has no
    /// endpoint: the server's connections have no remote endpoint, a client's connections no local one.
    /// </summary>
    public MachConnectionContext(MachChannel channel, EndPoint? localEndPoint, EndPoint? remoteEndPoint = null)
    {
        Channel = channel;
        ConnectionId = channel.Id;
        Transport = channel;
        LocalEndPoint = localEndPoint;
        RemoteEndPoint = remoteEndPoint;
        ConnectionClosed = channel.Closed;
        var features = new FeatureCollection();
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        features.Set<IConnectionEndPointFeature>(this);
        features.Set<IMemoryPoolFeature>(this);
        features.Set<IMachPeerCredentialsFeature>(this);
        Features = features;
    }

    /// <summary>The channel whose pipes <see cref="Transport"/> is (until the application replaces it).</summary>
    public MachChannel Channel { get; }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>The pool the connection's pipes use (on a server, the listener's: Kestrel rents its HTTP buffers from it too).</summary>
    public MemoryPool<byte> MemoryPool => Channel.MemoryPool;

    public MachPeerCredentials Credentials => new(Channel.Peer.Pid, Channel.Peer.Uid, Channel.Peer.Gid);

    // Kestrel passes null at times (e.g. from Http2FrameWriter.Abort on connection close).
    public override void Abort(ConnectionAbortedException abortReason)
        => Channel.Abort(abortReason?.Message ?? "aborted by the application", abortReason);

    public override async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
