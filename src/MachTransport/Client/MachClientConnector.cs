using System.Buffers;
using MachTransport.Channel;
using MachTransport.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MachTransport.Client;

/// <summary>
/// The client's way into the channel layer: settings from <see cref="MachClientOptions"/>, and connects through
/// <see cref="MachConnector"/> (which owns the handshake) on the process-wide client receive loop.
/// </summary>
internal static class MachClientConnector
{
    /// <summary>The settings of connections made under <paramref name="options"/> (copied: later changes do not apply).</summary>
    public static ChannelSettings Settings(MachClientOptions options)
    {
        ILogger logger = options.LoggerFactory is null
            ? NullLogger.Instance
            : new RateLimitedLogger(options.LoggerFactory.CreateLogger("MachTransport.Client"), LogRateLimiter.Client);
        // The shared pool rents from ArrayPool<byte>.Shared, which keeps a few dozen arrays per size and core: a 1 MiB
        // message in 4 KiB segments ran it dry and allocated most of them. In 64 KiB segments it takes 16.
        return ChannelSettings.From(options.Limits, logger, MachTransportMetrics.Client, MemoryPool<byte>.Shared, minimumSegmentSize: 64 * 1024);
    }

    /// <summary>Connects under <paramref name="options"/> as they are now (tests and one-off connections).</summary>
    public static Task<MachChannel> ConnectAsync(string serviceName, MachClientOptions options, CancellationToken cancellationToken)
        => ConnectAsync(serviceName, Settings(options), options.ConnectTimeout, cancellationToken);

    /// <summary>Connects with <paramref name="settings"/> built once by the caller (<see cref="Settings"/>).</summary>
    public static Task<MachChannel> ConnectAsync(string serviceName, ChannelSettings settings, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        MachReceiveLoop loop = MachReceiveLoop.Client;
        return MachConnector.ConnectAsync(loop, serviceName, settings, connectTimeout, cancellationToken);
    }
}
