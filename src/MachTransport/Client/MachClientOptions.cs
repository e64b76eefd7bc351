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
    /// Where the events of this factory's (or handler's) connections are logged, category <c>MachTransport.Client</c>;
    /// none by default. The receive loop all clients of a process share logs what concerns a connection here too; its
    /// own events, which belong to no connection, go to the <c>Microsoft-Extensions-Logging</c> EventSource (category
    /// <c>MachTransport.Client.ReceiveLoop</c>; docs/protocol.md).
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
