namespace MachTransport;

/// <summary>Ready-made <see cref="SocketsHttpHandler"/>s whose connections go to a Mach service.</summary>
public static class MachHttpHandler
{
    /// <summary>The base address of clients of a Mach service: it names the HTTP <c>:authority</c>/<c>Host</c>, not a route.</summary>
    internal static Uri BaseAddress { get; } = new("http://localhost");

    /// <summary>
    /// A handler that connects to <paramref name="serviceName"/>, for HTTP/2 with prior knowledge: send requests to
    /// <c>http://localhost/...</c> with <c>Version = HttpVersion.Version20</c> and
    /// <c>VersionPolicy = HttpVersionPolicy.RequestVersionExact</c> (or set them as the client's defaults; with <c>IHttpClientFactory</c>,
    /// <c>UseMachService</c> does all of it). HTTP/1.1 requests work too, against a listener configured for HTTP/1.1.
    /// Its connections come from one <see cref="MachConnectionFactory"/> made here with <paramref name="options"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="serviceName"/> is not a valid Mach service name.</exception>
    public static SocketsHttpHandler Create(string serviceName, MachClientOptions? options = null)
    {
        var service = new MachEndPoint(serviceName);
        var factory = new MachConnectionFactory(options);
        return new SocketsHttpHandler
        {
            ConnectCallback = (_, cancellationToken) => factory.ConnectStreamAsync(service, cancellationToken),
            EnableMultipleHttp2Connections = true,
            UseProxy = false,
        };
    }
}
