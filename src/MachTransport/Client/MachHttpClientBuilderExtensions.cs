using System.Net;
using MachTransport;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Points clients of <c>IHttpClientFactory</c> (and Grpc.Net.ClientFactory's <c>AddGrpcClient&lt;T&gt;</c>) at a Mach service.</summary>
public static class MachHttpClientBuilderExtensions
{
    /// <summary>
    /// Sends this client's requests to the Mach service <paramref name="serviceName"/>, right by default:
    /// <c>services.AddHttpClient("greeter").UseMachService("com.example.greeter")</c>, or
    /// <c>services.AddGrpcClient&lt;Greeter.GreeterClient&gt;().UseMachService("com.example.greeter")</c>. The primary
    /// handler becomes a Mach handler (logging to the app's <see cref="ILoggerFactory"/>; <paramref name="configure"/>
    /// adjusts its options); the client gets the base address <c>http://localhost</c> unless it has one, and sends
    /// HTTP/2 with <see cref="HttpVersionPolicy.RequestVersionExact"/>, which a Mach listener speaks by default. A gRPC
    /// client registered without an address takes that base address. Configure the client after this call to change
    /// any of it (HTTP/1.1 for a listener set to <c>HttpProtocols.Http1</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="serviceName"/> is not a valid Mach service name.</exception>
    public static IHttpClientBuilder UseMachService(this IHttpClientBuilder builder, string serviceName, Action<MachClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        MachTransport.Mach.MachBootstrap.ValidateServiceName(serviceName, nameof(serviceName)); // a bad name fails here, not at the first call
        builder.ConfigureHttpClient(static client =>
        {
            // Grpc.Net.ClientFactory copies BaseAddress to a client without an address and ignores the rest.
            client.BaseAddress ??= MachHttpHandler.BaseAddress;
            client.DefaultRequestVersion = HttpVersion.Version20;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        });
        return builder.ConfigurePrimaryHttpMessageHandler(services =>
        {
            var options = new MachClientOptions { LoggerFactory = services.GetService<ILoggerFactory>() };
            configure?.Invoke(options);
            return MachHttpHandler.Create(serviceName, options);
        });
    }
}
