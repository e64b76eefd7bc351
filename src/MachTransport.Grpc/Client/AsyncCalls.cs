using System.Runtime.CompilerServices;

namespace MachTransport.Grpc;

/// <summary>A unary call in progress; await it for the response.</summary>
/// <typeparam name="TResponse">The response type.</typeparam>
public sealed class AsyncUnaryCall<TResponse>(Task<TResponse> responseAsync, Task<Metadata> responseHeadersAsync, Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    /// <summary>The response; faults with <see cref="RpcException"/> on a status other than OK.</summary>
    public Task<TResponse> ResponseAsync => responseAsync;

    /// <summary>The response headers.</summary>
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;

    /// <summary>Awaits <see cref="ResponseAsync"/>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => responseAsync.GetAwaiter();

    /// <summary>The status, once the call has ended.</summary>
    public Status GetStatus() => getStatus();

    /// <summary>The trailers, once the call has ended.</summary>
    public Metadata GetTrailers() => getTrailers();

    /// <summary>Cancels the call if it is still running and frees its resources.</summary>
    public void Dispose() => dispose();
}

/// <summary>A server-streaming call in progress.</summary>
/// <typeparam name="TResponse">The response type.</typeparam>
public sealed class AsyncServerStreamingCall<TResponse>(IAsyncStreamReader<TResponse> responseStream, Task<Metadata> responseHeadersAsync, Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    /// <summary>The responses; reading past the end throws <see cref="RpcException"/> on a status other than OK.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream => responseStream;

    /// <summary>The response headers.</summary>
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;

    /// <summary>The status, once the call has ended.</summary>
    public Status GetStatus() => getStatus();

    /// <summary>The trailers, once the call has ended.</summary>
    public Metadata GetTrailers() => getTrailers();

    /// <summary>Cancels the call if it is still running and frees its resources.</summary>
    public void Dispose() => dispose();
}

/// <summary>A client-streaming call in progress.</summary>
/// <typeparam name="TRequest">The request type.</typeparam>
/// <typeparam name="TResponse">The response type.</typeparam>
public sealed class AsyncClientStreamingCall<TRequest, TResponse>(IClientStreamWriter<TRequest> requestStream, Task<TResponse> responseAsync, Task<Metadata> responseHeadersAsync, Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    /// <summary>The requests; complete it to let the server answer.</summary>
    public IClientStreamWriter<TRequest> RequestStream => requestStream;

    /// <summary>The response.</summary>
    public Task<TResponse> ResponseAsync => responseAsync;

    /// <summary>The response headers.</summary>
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;

    /// <summary>Awaits <see cref="ResponseAsync"/>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => responseAsync.GetAwaiter();

    /// <summary>The status, once the call has ended.</summary>
    public Status GetStatus() => getStatus();

    /// <summary>The trailers, once the call has ended.</summary>
    public Metadata GetTrailers() => getTrailers();

    /// <summary>Cancels the call if it is still running and frees its resources.</summary>
    public void Dispose() => dispose();
}

/// <summary>A duplex-streaming call in progress.</summary>
/// <typeparam name="TRequest">The request type.</typeparam>
/// <typeparam name="TResponse">The response type.</typeparam>
public sealed class AsyncDuplexStreamingCall<TRequest, TResponse>(IClientStreamWriter<TRequest> requestStream, IAsyncStreamReader<TResponse> responseStream, Task<Metadata> responseHeadersAsync, Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IDisposable
{
    /// <summary>The requests.</summary>
    public IClientStreamWriter<TRequest> RequestStream => requestStream;

    /// <summary>The responses.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream => responseStream;

    /// <summary>The response headers.</summary>
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;

    /// <summary>The status, once the call has ended.</summary>
    public Status GetStatus() => getStatus();

    /// <summary>The trailers, once the call has ended.</summary>
    public Metadata GetTrailers() => getTrailers();

    /// <summary>Cancels the call if it is still running and frees its resources.</summary>
    public void Dispose() => dispose();
}
