using System.Buffers;
using System.Net;
using MachTransport.Channel;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace MachTransport.Server;

/// <summary>
/// Kestrel's listener over a <see cref="MachAcceptor"/>, which owns the handshake: each channel it hands out becomes
/// a <see cref="MachConnectionContext"/>. The listener adds what Kestrel expects around it: a taken name as
/// <see cref="AddressInUseException"/>, the service-name watch behind the health check, and the memory pool it owns.
/// </summary>
internal sealed class MachConnectionListener : IConnectionListener
{
    private readonly MachEndPoint _endPoint;
    private readonly MachAcceptor _acceptor;
    private readonly MemoryPool<byte> _memoryPool;
    private readonly MachServiceNameWatch _nameWatch;
    private int _disposed;

    private MachConnectionListener(MachEndPoint endPoint, MachAcceptor acceptor, MemoryPool<byte> memoryPool, ILogger logger)
    {
        _endPoint = endPoint;
        _acceptor = acceptor;
        _memoryPool = memoryPool;
        _nameWatch = new MachServiceNameWatch(() => acceptor.NameHeld, endPoint.ServiceName, logger);
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
        ChannelSettings settings = ChannelSettings.From(options.Limits, logger, metrics, memoryPool);
        MachAcceptor acceptor;
        try
        {
            acceptor = MachAcceptor.Bind(kernel ?? MachKernel.Current, endPoint.ServiceName, endPoint.Domain == MachBootstrapDomain.System, options.AdmissionPolicy(), settings);
        }
        catch (MachBootstrapException ex) when (ex.IsNameTaken)
        {
            // Kestrel's own signal for "this address is taken" (it wraps it in "Failed to bind to address mach:NAME").
            throw new AddressInUseException(NameTaken(endPoint), ex);
        }

        var listener = new MachConnectionListener(endPoint, acceptor, memoryPool, logger);
        MachTransportLog.ListenerBound(logger, endPoint.ServiceName);
        return listener;
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
        => await _acceptor.AcceptAsync(cancellationToken).ConfigureAwait(false) is MachChannel channel
            ? new MachConnectionContext(channel, _endPoint)
            : null;

    /// <summary>
    /// Stops taking connections; established connections go on. The service port stays and answers every CONNECT
    /// with REJECT "shutting down", after disposal too, so no client waits for a listener that is gone.
    /// </summary>
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _acceptor.Unbind();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _acceptor.Unbind();
        _nameWatch.Dispose();
        await _acceptor.DisposeAsync().ConfigureAwait(false);
        _memoryPool.Dispose();
    }
}
