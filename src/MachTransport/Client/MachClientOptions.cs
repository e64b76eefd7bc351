using MachTransport.Channel;
using Microsoft.Extensions.Logging;

namespace MachTransport.Client;

/// <summary>Limits and timeouts of client connections to a Mach service.</summary>
public sealed class MachClientOptions
{
    /// <summary>How long to wait for the server to accept or reject a connection. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set => field = ChannelLimits.Timeout(value, nameof(ConnectTimeout)); } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes the server may send ahead of what the client has read (the read window). Default 1 MiB.</summary>
    public long MaxReadBufferSize { get; set => field = ChannelLimits.ReadBufferSize(value); } = 1024 * 1024;

    /// <summary>Bytes buffered for sending before writes wait. Default 64 KiB.</summary>
    public long MaxWriteBufferSize { get; set => field = ChannelLimits.WriteBufferSize(value); } = 64 * 1024;

    /// <summary>Payloads up to this many bytes travel inside the message; larger ones out of line. Default 64 KiB (docs/protocol.md).</summary>
    public int InlineThreshold { get; set => field = ChannelLimits.InlineThreshold(value); } = MachTransport.Server.MachTransportOptions.DefaultInlineThreshold;

    /// <summary>Queue limit of the client's receive port (2..1024). Default 1024.</summary>
    public int QueueLimit { get; set => field = ChannelLimits.QueueLimit(value); } = 1024;

    /// <summary>
    /// Where connection events are logged; none by default. The receive loop all clients of a process share logs to
    /// the factory of the latest connection that had one.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
