using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using MachTransport.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MachTransport.Server;

/// <summary>
/// Kestrel's entry point to the transport. The selector matters: Kestrel tries factories last-registered first and
/// a factory without one would take every endpoint, TCP included. Its listeners share one meter (from the host's
/// <see cref="IMeterFactory"/>, as Kestrel's own) and one log rate limit; each listener gets its own memory pool from
/// Kestrel's <see cref="IMemoryPoolFactory{T}"/>, as Kestrel's transports do. A host without Kestrel's services
/// (machctl binds listeners itself) registers no such factory: its connections use the shared pool.
/// </summary>
internal sealed class MachTransportFactory(
    IOptions<MachTransportOptions> options,
    ILoggerFactory loggerFactory,
    IMeterFactory meterFactory,
    IMemoryPoolFactory<byte>? memoryPoolFactory = null)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ILogger _logger = new RateLimitedLogger(loggerFactory.CreateLogger("MachTransport.Server"), new LogRateLimiter());
    private readonly MachTransportMetrics _metrics = new(meterFactory.Create(MachTransportMetrics.MeterName), "server");

    public bool CanBind(EndPoint endpoint) => endpoint is MachEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not MachEndPoint mach)
        {
            throw new NotSupportedException($"The Mach transport binds only {nameof(MachEndPoint)}s, not {endpoint.GetType().Name}.");
        }

        // Disposing MemoryPool<byte>.Shared, as the listener does with its pool, does nothing.
        MemoryPool<byte> memoryPool = memoryPoolFactory?.Create(new MemoryPoolOptions { Owner = "mach" }) ?? MemoryPool<byte>.Shared;
        try
        {
            return ValueTask.FromResult<IConnectionListener>(MachConnectionListener.Bind(mach, options.Value, _logger, _metrics, memoryPool));
        }
        catch
        {
            memoryPool.Dispose();
            throw;
        }
    }
}
