using System.Reflection;
using MachTransport.Grpc;
using MachTransport.Grpc.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// grpc-dotnet's namespace for MapGrpcService, so startup code is the same on both stacks.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps gRPC services onto endpoint routing.</summary>
public static class GrpcEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every method of <typeparamref name="TService"/> (a class deriving from a generated <c>XxxBase</c>) to
    /// <c>POST /package.Service/Method</c>; other methods of the service, and unknown services, get UNIMPLEMENTED.
    /// </summary>
    public static IEndpointConventionBuilder MapGrpcService<TService>(this IEndpointRouteBuilder builder)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        GrpcMarkerService marker = builder.ServiceProvider.GetService<GrpcMarkerService>()
            ?? throw new InvalidOperationException("Call services.AddGrpc() before MapGrpcService.");
        GrpcServiceOptions options = builder.ServiceProvider.GetRequiredService<IOptions<GrpcServiceOptions>>().Value;
        ILogger logger = builder.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("MachTransport.Grpc.Server");

        var binder = new ServiceBinder<TService>(builder, options, logger);
        BindServiceMethodAttribute attribute = typeof(TService).GetCustomAttribute<BindServiceMethodAttribute>(inherit: true)
            ?? throw new InvalidOperationException($"{typeof(TService)} does not derive from a generated service base class (no [BindServiceMethod]).");
        MethodInfo bind = attribute.BindType.GetMethod(attribute.BindMethodName, BindingFlags.Public | BindingFlags.Static)
            ?? throw new InvalidOperationException($"{attribute.BindType} has no public static method {attribute.BindMethodName}.");
        bind.MakeGenericMethod(typeof(TService)).Invoke(null, [binder]);

        var conventions = new List<IEndpointConventionBuilder>(binder.Conventions);
        foreach (string serviceName in binder.ServiceNames)
        {
            conventions.Add(builder.Map($"/{serviceName}/{{unimplementedMethod}}", UnimplementedCallHandler.Create("Method is unimplemented.", logger))
                .WithMetadata(new HttpMethodMetadata([HttpMethods.Post])));
        }

        if (!marker.UnimplementedServiceMapped)
        {
            marker.UnimplementedServiceMapped = true;
            RoutePattern pattern = RoutePatternFactory.Parse(
                "/{unimplementedService}/{unimplementedMethod}",
                defaults: null,
                parameterPolicies: new RouteValueDictionary { ["unimplementedService"] = new GrpcRequestConstraint() });
            builder.Map(pattern, UnimplementedCallHandler.Create("Service is unimplemented.", logger))
                .WithMetadata(new HttpMethodMetadata([HttpMethods.Post]));
        }

        return new CompositeEndpointConventionBuilder(conventions);
    }
}
