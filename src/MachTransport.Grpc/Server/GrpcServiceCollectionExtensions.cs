using MachTransport.Grpc;
using MachTransport.Grpc.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;

// grpc-dotnet's namespace for AddGrpc, so startup code is the same on both stacks.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gRPC server runtime.</summary>
public static class GrpcServiceCollectionExtensions
{
    /// <summary>Adds the services <c>MapGrpcService</c> needs; <paramref name="configure"/> sets server-wide options.</summary>
    public static IServiceCollection AddGrpc(this IServiceCollection services, Action<GrpcServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        services.AddOptions<GrpcServiceOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<GrpcMarkerService>();
        return services;
    }
}
