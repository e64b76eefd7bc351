using MachTransport.Channel;
using MachTransport.Client;

namespace MachTransport;

/// <summary>
/// Opens connections to a Mach service; <see cref="ConnectAsync(SocketsHttpConnectionContext, CancellationToken)"/> fits <see cref="SocketsHttpHandler.ConnectCallback"/>.
/// Each call looks the service up again, so a restarted server is found by the next connection.
/// </summary>
public sealed class MachConnectionFactory
{
    private readonly ChannelSettings _settings;
    private readonly TimeSpan _connectTimeout;

    /// <summary>
    /// Creates a factory for <paramref name="serviceName"/>. The options are read once, here: every connection of the
    /// factory shares the settings built from them, and later changes to <paramref name="options"/> do not apply.
    /// </summary>
    public MachConnectionFactory(string serviceName, MachClientOptions? options = null)
    {
        Mach.MachBootstrap.ValidateServiceName(serviceName, nameof(serviceName));
        ServiceName = serviceName;
        options ??= new MachClientOptions();
        _settings = MachClientConnector.Settings(options);
        _connectTimeout = options.ConnectTimeout;
    }

    /// <summary>The Mach service this factory connects to.</summary>
    public string ServiceName { get; }

    /// <summary>Connects and returns a duplex stream; usable as <c>SocketsHttpHandler.ConnectCallback</c>.</summary>
    /// <exception cref="MachBootstrapException">The service is not registered, or access to the name was denied.</exception>
    /// <exception cref="MachException">The service is registered but its server process is gone.</exception>
    /// <exception cref="MachConnectionRejectedException">The server refused this process (peer policy, limits, shutdown).</exception>
    /// <exception cref="IOException">The server did not answer within <see cref="MachClientOptions.ConnectTimeout"/> (its inner exception is a <see cref="TimeoutException"/>). Every failure to connect is an <see cref="IOException"/>.</exception>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        => await ConnectAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Connects and returns a duplex stream (see <see cref="ConnectAsync(SocketsHttpConnectionContext, CancellationToken)"/>).</summary>
    public async ValueTask<Stream> ConnectAsync(CancellationToken cancellationToken = default)
    {
        MachChannel channel = await MachClientConnector.ConnectAsync(ServiceName, _settings, _connectTimeout, cancellationToken).ConfigureAwait(false);
        return new MachChannelStream(channel);
    }
}
