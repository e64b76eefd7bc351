using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using MachTransport.Channel;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace MachTransport.Server;

/// <summary>One accepted Mach connection as Kestrel sees it; the context is its own feature set.</summary>
internal sealed class MachConnectionContext : ConnectionContext,
    IConnectionIdFeature,
    IConnectionTransportFeature,
    IConnectionItemsFeature,
    IConnectionLifetimeFeature,
    IConnectionEndPointFeature,
    IMemoryPoolFeature,
    IMachPeerCredentialsFeature
{
    private readonly MachChannel _channel;
    private IDictionary<object, object?>? _items;

    public MachConnectionContext(MachChannel channel, MachEndPoint localEndPoint)
    {
        _channel = channel;
        ConnectionId = channel.Id;
        Transport = channel;
        LocalEndPoint = localEndPoint;
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

    /// <summary>The listener's pool, which the connection's pipes use: Kestrel rents its HTTP buffers from it too.</summary>
    public MemoryPool<byte> MemoryPool => _channel.MemoryPool;

    public MachPeerCredentials Credentials => new(_channel.Peer.Pid, _channel.Peer.Uid, _channel.Peer.Gid);

    // Kestrel passes null at times (e.g. from Http2FrameWriter.Abort on connection close).
    public override void Abort(ConnectionAbortedException abortReason)
        => _channel.Abort(abortReason?.Message ?? "aborted by the application", abortReason);

    public override async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
