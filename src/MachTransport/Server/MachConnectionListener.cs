using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using MachTransport.Channel;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace MachTransport.Server;

/// <summary>
/// A checked-in Mach service: its own receive loop takes CONNECT on the service port, applies the peer policy,
/// answers ACCEPT from a fresh per-connection port (same loop) and queues the connection for Kestrel.
/// </summary>
internal sealed class MachConnectionListener : IConnectionListener, IMachPortHandler
{
    private readonly MachEndPoint _endPoint;
    private readonly MachTransportOptions _options;
    private readonly ILogger _logger;
    private readonly IMachKernel _kernel;
    private readonly ChannelSettings _settings;
    private readonly MachReceiveLoop _loop;
    private readonly MachReceiveRight _service;
    private readonly Channel<MachConnectionContext> _accepted = System.Threading.Channels.Channel.CreateUnbounded<MachConnectionContext>(
        new UnboundedChannelOptions { SingleWriter = true });
    private readonly ConcurrentDictionary<MachChannel, byte> _live = new();
    private readonly MachPeerAccounting _accounting;
    private readonly MachServiceNameWatch _nameWatch;
    private volatile bool _unbound;
    private int _disposed;

    private MachConnectionListener(MachEndPoint endPoint, MachTransportOptions options, ILogger logger, MachTransportMetrics metrics, MemoryPool<byte> memoryPool, IMachKernel kernel, MachReceiveRight service)
    {
        _endPoint = endPoint;
        _options = options;
        _logger = logger;
        _kernel = kernel;
        _service = service;
        _accounting = new MachPeerAccounting(options);
        _settings = ChannelSettings.From(options.Limits, logger, metrics, memoryPool);
        _loop = new MachReceiveLoop(kernel, $"server {endPoint.ServiceName}", logger);
        _loop.Register(_service, this);
        _nameWatch = new MachServiceNameWatch(kernel, service, endPoint.ServiceName, logger);
    }

    public EndPoint EndPoint => _endPoint;

    /// <summary>Completes when look-ups of the service name no longer reach this listener (logged; the health check fails).</summary>
    internal Task NameLost => _nameWatch.Lost;

    /// <summary>
    /// Checks the service in and starts listening; the listener owns <paramref name="memoryPool"/> from then on.
    /// <paramref name="kernel"/> is the process's own unless a test stands in for it.
    /// </summary>
    public static MachConnectionListener Bind(MachEndPoint endPoint, MachTransportOptions options, ILogger logger, MachTransportMetrics metrics, MemoryPool<byte> memoryPool, IMachKernel? kernel = null)
    {
        kernel ??= MachKernel.Current;
        MachReceiveRight service;
        try
        {
            // A listener stopped earlier in this process kept the port (and the name): take it back.
            service = MachRetiredServices.TryReclaim(endPoint) ?? MachBootstrap.CheckIn(kernel, endPoint.ServiceName, endPoint.Domain == MachBootstrapDomain.System);
        }
        catch (MachBootstrapException ex) when (ex.Status is (int)BootstrapStatus.ServiceActive or (int)BootstrapStatus.NameInUse)
        {
            // Kestrel's own signal for "this address is taken" (it wraps it in "Failed to bind to address mach:NAME").
            throw new AddressInUseException(NameTaken(endPoint), ex);
        }

        try
        {
            service.SetQueueLimit(MachPort.QueueLimitMax);
            var listener = new MachConnectionListener(endPoint, options, logger, metrics, memoryPool, kernel, service);
            MachTransportLog.ListenerBound(logger, endPoint.ServiceName);
            return listener;
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>One line: the name is taken, by which pid when the platform tells (<see cref="ServiceNameHolder"/>), and what to do.</summary>
    private static string NameTaken(MachEndPoint endPoint)
    {
        string holder = ServiceNameHolder.FindPid(endPoint.ServiceName, endPoint.Domain) is int pid
            ? $"process {pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
            : OperatingSystem.IsMacOS() ? "another running process (launchd does not say which)" : "another running process";
        return $"The Mach service name '{endPoint.ServiceName}' is already registered by {holder} (BOOTSTRAP_SERVICE_ACTIVE): stop it or listen under another name.";
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _accepted.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_accepted.Reader.TryRead(out MachConnectionContext? connection))
                {
                    return connection;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    /// <summary>
    /// Stops taking connections; established connections go on. The service port stays and answers every CONNECT
    /// with REJECT "shutting down", after disposal too (<see cref="MachRetiredServices"/>), so no client waits for a
    /// listener that is gone.
    /// </summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound = true;
        _accepted.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await UnbindAsync().ConfigureAwait(false);
        _nameWatch.Dispose();
        while (_accepted.Reader.TryRead(out MachConnectionContext? unclaimed))
        {
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }

        foreach (MachChannel channel in _live.Keys)
        {
            channel.Abort("the listener was disposed");
            await channel.DisposeAsync().ConfigureAwait(false);
        }

        _loop.Release(_service);
        MachRetiredServices.Retire(_endPoint, _service);
        await _loop.DisposeAsync().ConfigureAwait(false);
        _settings.MemoryPool.Dispose();
    }

    public void OnMessage(in MachMessageReader message)
    {
        if (message.Id != MachProtocol.Connect || !message.TryGetAuditTrailer(out MachMsgAuditTrailer trailer))
        {
            DropMalformed(message, "not a CONNECT with a sender identity");
            return;
        }

        var peer = MachPeerIdentity.From(trailer);
        if (!MachCodec.TryParseConnect(message, out uint client, out MachWindow window, out MachCloseReason reason, out string? error))
        {
            if (MachPort.IsValid(client) && !_loop.Serves(client))
            {
                Reject(client, reason, error ?? "malformed CONNECT");
            }

            DropMalformed(message, error ?? "malformed CONNECT");
            return;
        }

        if (_loop.Serves(client))
        {
            // Our service port or a connection's (a send right to a port whose receive right we hold has its name): the
            // connection would talk to itself until keep-alive closed it, and a REJECT would go to ourselves.
            DropMalformed(message, "a CONNECT whose client port is a port of this server");
            return;
        }

        string detail = string.Empty;
        MachCloseReason refusal = _unbound ? MachCloseReason.ShuttingDown
            : !IsAllowed(peer) ? MachCloseReason.PeerNotAllowed
            : _accounting.TryAdmit(peer, client, out detail);
        switch (refusal)
        {
            case MachCloseReason.None:
                break;
            case MachCloseReason.ProtocolError:
                // The client port already belongs to a connection: answering would reach that connection.
                DropMalformed(message, detail);
                return;
            case MachCloseReason.PeerNotAllowed:
                _settings.Metrics.PeerRejected();
                MachTransportLog.PeerRejected(_logger, _endPoint.ServiceName, peer.Pid, peer.Uid, refusal);
                RejectAndDrop(message, client, refusal, $"uid {peer.Uid} pid {peer.Pid} is not allowed");
                return;
            default:
                // Busy or stopping: routine under load, and a hostile client could flood a louder log.
                MachTransportLog.ConnectionRefused(_logger, _endPoint.ServiceName, peer.Pid, peer.Uid, refusal, detail);
                RejectAndDrop(message, client, refusal, refusal == MachCloseReason.ServerBusy ? $"busy: {detail}" : "shutting down");
                return;
        }

        // From here the client's send right belongs to the channel.
        Establish(new MachSendRight(_kernel, client), peer, window);
    }

    public void OnDeadName(uint deadName) => _kernel.Deallocate(deadName);

    /// <summary>Handling one CONNECT threw: that request is lost (the loop logged why), the service goes on.</summary>
    public void OnFailed(Exception error) => _settings.Metrics.ProtocolError();

    private bool IsAllowed(MachPeerIdentity peer)
    {
        try
        {
            return _options.PeerPolicy(new MachPeerCredentials(peer.Pid, peer.Uid, peer.Gid));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MachTransportLog.PeerPolicyFailed(_logger, ex, _endPoint.ServiceName);
            return false;
        }
    }

    private void Establish(MachSendRight client, MachPeerIdentity peer, MachWindow window)
    {
        MachReceiveRight port;
        try
        {
            port = MachReceiveRight.Allocate(_kernel);
        }
        catch (MachException)
        {
            Reject(client.Name, MachCloseReason.ResourceFailure, "no port for the connection");
            _accounting.Release(peer, client.Name);
            client.Dispose();
            return;
        }

        _kernel.SetQueueLimit(port.Name, (uint)_settings.QueueLimit);
        var channel = new MachChannel(_loop, port, client, peer, window, _settings, "server");
        _live[channel] = 0;
        if (!channel.Start(OnReleased))
        {
            // Without the watch the connection would never learn that its peer is gone.
            Drop(channel, "the handshake failed: the client's port could not be watched for its death");
            return;
        }

        MachMsgReturn accepted = channel.SendAccept();
        if (accepted != MachMsgReturn.Success)
        {
            MachTransportLog.SendFailed(_logger, channel.Id, "ACCEPT", MachException.Describe(accepted));
            Drop(channel, "the handshake failed");
            return;
        }

        var connection = new MachConnectionContext(channel, _endPoint);
        if (!_accepted.Writer.TryWrite(connection))
        {
            Drop(channel, "the listener stopped accepting");
        }
    }

    private static void Drop(MachChannel channel, string reason)
    {
        channel.Abort(reason);
        _ = channel.DisposeAsync().AsTask();
    }

    private void OnReleased(MachChannel channel)
    {
        if (_live.TryRemove(channel, out _))
        {
            _accounting.Release(channel.Peer, channel.PeerPortName);
        }
    }

    private void Reject(uint client, MachCloseReason reason, string text) => MachSender.SendReject(_kernel, client, reason, text);

    private void RejectAndDrop(in MachMessageReader message, uint client, MachCloseReason reason, string text)
    {
        Reject(client, reason, text);
        MachMessageDisposal.Destroy(_kernel, message);
    }

    private void DropMalformed(in MachMessageReader message, string reason)
    {
        MachTransportLog.MalformedServiceMessage(_logger, _endPoint.ServiceName, message.Id, reason);
        _settings.Metrics.ProtocolError();
        MachMessageDisposal.Destroy(_kernel, message);
    }
}
