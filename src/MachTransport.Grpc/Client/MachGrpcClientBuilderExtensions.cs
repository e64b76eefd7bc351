using Grpc.Net.ClientFactory;
using MachTransport.Client;
using MachTransport.Grpc;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Points clients of <c>IHttpClientFactory</c> and <c>AddGrpcClient&lt;T&gt;</c> at a Mach service.</summary>
public static class MachGrpcClientBuilderExtensions
{
    /// <summary>
    /// Sends this client's calls to the Mach service <paramref name="serviceName"/>:
    /// <c>services.AddGrpcClient&lt;Greeter.GreeterClient&gt;().UseMachService("com.example.greeter")</c>. The primary
    /// handler becomes a Mach handler (logging to the app's <see cref="ILoggerFactory"/>), and a gRPC client without an
    /// address gets <see cref="MachGrpcChannel.Address"/>. Channel options, interceptors and retries configured on
    /// the builder keep working.
    /// </summary>
    public static IHttpClientBuilder UseMachService(this IHttpClientBuilder builder, string serviceName, Action<MachClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        _ = new MachTransport.Server.MachEndPoint(serviceName); // a bad name fails here, where it is given, not at the first call
        builder.Services.Configure<GrpcClientFactoryOptions>(builder.Name, options => options.Address ??= MachGrpcChannel.Address);
        return builder.ConfigurePrimaryHttpMessageHandler(services =>
        {
            var options = new MachClientOptions { LoggerFactory = services.GetService<ILoggerFactory>() };
            configure?.Invoke(options);
            return MachHttpHandler.Create(serviceName, options);
        });
    }
}
