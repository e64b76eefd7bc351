using MachTransport.Grpc.Protocol;
using Microsoft.AspNetCore.Http;

namespace MachTransport.Grpc.Server;

/// <summary>The message streams of one server call: requests from the request body, responses into the response body.</summary>
internal sealed class ServerCall<TRequest, TResponse> : IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, IDisposable
    where TRequest : class
    where TResponse : class
{
    private readonly HttpContext _httpContext;
    private readonly Method<TRequest, TResponse> _method;
    private readonly MessageReader<TRequest> _reader;
    private readonly FrameSerializationContext _writeContext;
    private Task _pendingWrite = Task.CompletedTask;
    private TRequest? _current;

    public ServerCall(HttpContext httpContext, Method<TRequest, TResponse> method, HttpServerCallContext context, GrpcServiceOptions options)
    {
        _httpContext = httpContext;
        _method = method;
        Context = context;
        string? encoding = httpContext.Request.Headers[GrpcProtocol.EncodingHeader];
        bool compressionRequested = encoding is not null && !encoding.Equals(GrpcProtocol.IdentityEncoding, StringComparison.OrdinalIgnoreCase);
        _reader = new MessageReader<TRequest>(httpContext.Request.BodyReader, method.RequestMarshaller, options.MaxReceiveMessageSize, compressionRequested);
        _writeContext = new FrameSerializationContext(options.MaxSendMessageSize);
    }

    public HttpServerCallContext Context { get; }

    public TRequest Current => _current ?? throw new InvalidOperationException("MoveNext has not returned a message.");

    /// <summary>The one request of a unary or server-streaming call.</summary>
    public async Task<TRequest> ReadSingleMessageAsync()
    {
        (bool read, TRequest? request) = await _reader.ReadAsync(Context.CancellationToken).ConfigureAwait(false);
        if (!read)
        {
            throw new RpcException(new Status(StatusCode.Internal, "The request did not include a message."));
        }

        if ((await _reader.ReadAsync(Context.CancellationToken).ConfigureAwait(false)).Read)
        {
            throw new RpcException(new Status(StatusCode.Internal, "The request included more than one message."));
        }

        return request!;
    }

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        // Handlers usually pass the call's own token: link only a different one (a linked source per message otherwise).
        bool other = cancellationToken.CanBeCanceled && cancellationToken != Context.CancellationToken;
        using CancellationTokenSource? linked = other ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Context.CancellationToken) : null;
        (bool read, TRequest? request) = await _reader.ReadAsync(linked?.Token ?? Context.CancellationToken).ConfigureAwait(false);
        _current = request;
        return read;
    }

    public Task WriteAsync(TResponse message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(TResponse message, CancellationToken cancellationToken)
    {
        if (!_pendingWrite.IsCompleted)
        {
            throw new InvalidOperationException("A previous write is still in progress: await each write.");
        }

        return _pendingWrite = WriteCoreAsync(message, cancellationToken);
    }

    public void Dispose()
    {
        if (_pendingWrite.IsCompleted)
        {
            _writeContext.Dispose();
        }
    }

    private async Task WriteCoreAsync(TResponse message, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> frame = _writeContext.Serialize(_method.ResponseMarshaller, message);
        CancellationToken token = cancellationToken.CanBeCanceled ? cancellationToken : Context.CancellationToken;
        await _httpContext.Response.BodyWriter.WriteAsync(frame, token).ConfigureAwait(false);
    }
}
