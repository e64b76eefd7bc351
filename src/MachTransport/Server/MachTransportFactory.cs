using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MachTransport.Server;

/// <summary>
/// Kestrel's entry point to the transport. The selector matters: Kestrel tries factories last-registered first and
/// a factory without one would take every endpoint, TCP included.
/// </summary>
internal sealed class MachTransportFactory(IOptions<MachTransportOptions> options, ILoggerFactory loggerFactory)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("MachTransport.Server");

    public bool CanBind(EndPoint endpoint) => endpoint is MachEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not MachEndPoint mach)
        {
            throw new NotSupportedException($"The Mach transport binds only {nameof(MachEndPoint)}s, not {endpoint.GetType().Name}.");
        }

        return ValueTask.FromResult<IConnectionListener>(MachConnectionListener.Bind(mach, options.Value, _logger));
    }
}
