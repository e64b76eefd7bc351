using MachTransport.Infrastructure;
using Microsoft.Extensions.Logging;

namespace MachTransport;

/// <summary>Limits and timeouts of client connections to a Mach service.</summary>
public sealed class MachClientOptions
{
    /// <summary>How long to wait for the server to accept or reject a connection. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set => field = OptionGuard.Timeout(value, nameof(ConnectTimeout)); } = TimeSpan.FromSeconds(10);

    /// <summary>Limits of each connection: read and write buffers, the inline threshold, the port's queue.</summary>
    public MachConnectionLimits Limits { get; } = new();

    /// <summary>
    /// Where connection events are logged; none by default. The receive loop all clients of a process share logs to
    /// the factory of the latest connection that had one.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
