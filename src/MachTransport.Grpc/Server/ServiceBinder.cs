using MachTransport.Grpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace MachTransport.Grpc;

/// <summary>Maps the methods of <typeparamref name="TService"/> to endpoints; generated bind methods call it.</summary>
/// <typeparam name="TService">The service implementation type.</typeparam>
public sealed class ServiceBinder<TService>
    where TService : class
{
    private readonly IEndpointRouteBuilder _endpoints;
    private readonly GrpcServiceOptions _options;
    private readonly ILogger _logger;
    private readonly List<IEndpointConventionBuilder> _conventions = [];
    private readonly HashSet<string> _serviceNames = new(StringComparer.Ordinal);

    internal ServiceBinder(IEndpointRouteBuilder endpoints, GrpcServiceOptions options, ILogger logger)
    {
        _endpoints = endpoints;
        _options = options;
        _logger = logger;
    }

    internal IReadOnlyList<IEndpointConventionBuilder> Conventions => _conventions;

    internal IReadOnlyCollection<string> ServiceNames => _serviceNames;

    /// <summary>Binds a unary method.</summary>
    public void AddUnaryMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TService, TRequest, ServerCallContext, Task<TResponse>> handler)
        where TRequest : class
        where TResponse : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Map(method, async (service, call) =>
        {
            TRequest request = await call.ReadSingleMessageAsync().ConfigureAwait(false);
            TResponse response = await handler(service, request, call.Context).ConfigureAwait(false);
            await call.WriteAsync(response).ConfigureAwait(false);
        });
    }

    /// <summary>Binds a server-streaming method.</summary>
    public void AddServerStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TService, TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler)
        where TRequest : class
        where TResponse : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Map(method, async (service, call) =>
        {
            TRequest request = await call.ReadSingleMessageAsync().ConfigureAwait(false);
            await handler(service, request, call, call.Context).ConfigureAwait(false);
        });
    }

    /// <summary>Binds a client-streaming method.</summary>
    public void AddClientStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TService, IAsyncStreamReader<TRequest>, ServerCallContext, Task<TResponse>> handler)
        where TRequest : class
        where TResponse : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Map(method, async (service, call) =>
        {
            TResponse response = await handler(service, call, call.Context).ConfigureAwait(false);
            await call.WriteAsync(response).ConfigureAwait(false);
        });
    }

    /// <summary>Binds a duplex-streaming method.</summary>
    public void AddDuplexStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TService, IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler)
        where TRequest : class
        where TResponse : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        Map(method, (service, call) => handler(service, call, call, call.Context));
    }

    private void Map<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TService, ServerCall<TRequest, TResponse>, Task> invoke)
        where TRequest : class
        where TResponse : class
    {
        ArgumentNullException.ThrowIfNull(method);
        var handler = new ServerCallHandler<TService, TRequest, TResponse>(method, invoke, _options, _logger);
        _conventions.Add(_endpoints.MapPost(method.FullName, handler.HandleCallAsync).WithDisplayName($"gRPC - {method.FullName}"));
        _serviceNames.Add(method.ServiceName);
    }
}
