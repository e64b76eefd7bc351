using System.Net;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using Microsoft.AspNetCore.Connections;

namespace MachTransport;

/// <summary>
/// Opens client connections to Mach services, as Kestrel's <c>SocketConnectionFactory</c> opens sockets: an
/// <see cref="IConnectionFactory"/> whose connections are pipes (<see cref="ConnectionContext.Transport"/>) carrying the
/// server's kernel-verified credentials (<see cref="IMachPeerCredentialsFeature"/>). <see cref="ConnectStreamAsync"/>
/// gives the same connection as a <see cref="Stream"/>, which is what <see cref="SocketsHttpHandler.ConnectCallback"/>
/// takes. Each connect looks the service up again, so a restarted server is found by the next connection.
/// </summary>
public sealed class MachConnectionFactory : IConnectionFactory
{
    private readonly ChannelSettings _settings;
    private readonly TimeSpan _connectTimeout;

    /// <summary>
    /// Creates a factory. The options are read once, here: every connection of the factory shares the settings built
    /// from them (and logs to their <see cref="MachClientOptions.LoggerFactory"/>); later changes to
    /// <paramref name="options"/> do not apply.
    /// </summary>
    public MachConnectionFactory(MachClientOptions? options = null)
    {
        options ??= new MachClientOptions();
        _settings = MachClientConnector.Settings(options);
        _connectTimeout = options.ConnectTimeout;
    }

    /// <summary>
    /// Connects to the service <paramref name="endpoint"/> names (a <see cref="MachEndPoint"/>). The connection's
    /// <see cref="BaseConnectionContext.RemoteEndPoint"/> is that endpoint; it has no local endpoint (a client has no name).
    /// Disposing it sends FIN after the bytes written (a half-close, once the output is completed) and releases it;
    /// <see cref="ConnectionContext.Abort(ConnectionAbortedException)"/> resets it.
    /// </summary>
    /// <remarks>
    /// The look-up searches this user's bootstrap domain, then the system domain, as launchd's does: a user's name
    /// shadows a system one whatever <see cref="MachEndPoint.Domain"/> says.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is no <see cref="MachEndPoint"/>.</exception>
    /// <exception cref="MachBootstrapException">The service is not registered, or access to the name was denied.</exception>
    /// <exception cref="MachException">The service is registered but its server process is gone.</exception>
    /// <exception cref="MachConnectionRejectedException">The server refused this process (peer policy, limits, shutdown).</exception>
    /// <exception cref="IOException">The server did not answer within <see cref="MachClientOptions.ConnectTimeout"/> (its inner exception is a <see cref="TimeoutException"/>). Every failure to connect is an <see cref="IOException"/>.</exception>
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        MachEndPoint service = Service(endpoint);
        MachChannel channel = await ConnectChannelAsync(service, cancellationToken).ConfigureAwait(false);
        return new MachConnectionContext(channel, localEndPoint: null, remoteEndPoint: service);
    }

    /// <summary>
    /// Connects as <see cref="ConnectAsync"/> does and returns the connection as a duplex <see cref="Stream"/>; fits
    /// <see cref="SocketsHttpHandler.ConnectCallback"/>: <c>(_, ct) =&gt; factory.ConnectStreamAsync(endpoint, ct)</c>.
    /// A zero-byte read waits for data without consuming any. Disposing the stream half-closes and releases the connection.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is no <see cref="MachEndPoint"/>.</exception>
    /// <exception cref="IOException">The connection failed, as <see cref="ConnectAsync"/> lists.</exception>
    public async ValueTask<Stream> ConnectStreamAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        => new MachChannelStream(await ConnectChannelAsync(Service(endpoint), cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Looks the service up without connecting (no connection reaches its server), to fail early as
    /// <see cref="ConnectAsync"/> would fail: a tool that serves many connections checks its target at start.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is no <see cref="MachEndPoint"/>.</exception>
    /// <exception cref="MachBootstrapException">The service is not registered, or access to the name was denied.</exception>
    public static void LookUp(EndPoint endpoint)
        => MachBootstrap.LookUp(MachKernel.Current, Service(endpoint).ServiceName).Dispose();

    private Task<MachChannel> ConnectChannelAsync(MachEndPoint service, CancellationToken cancellationToken)
        => MachClientConnector.ConnectAsync(service.ServiceName, _settings, _connectTimeout, cancellationToken);

    private static MachEndPoint Service(EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint as MachEndPoint ?? throw new ArgumentException(
            $"A MachConnectionFactory connects to a MachEndPoint (new MachEndPoint(\"com.example.service\")), not to the {endpoint.GetType().Name} '{endpoint}'.",
            nameof(endpoint));
    }
}
