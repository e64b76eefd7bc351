using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using MachTransport.Grpc.Protocol;

namespace MachTransport.Grpc.Client;

/// <summary>
/// One client call as one HTTP/2 request: sends the request frame(s), reads response frames, and ends with the status
/// from the trailers (or from a trailers-only response). Cancelling or disposing resets the HTTP/2 stream.
/// </summary>
internal sealed class GrpcCall<TRequest, TResponse> : IAsyncStreamReader<TResponse>, IClientStreamWriter<TRequest>, IDisposable
    where TRequest : class
    where TResponse : class
{
    private static readonly Task<PipeReader?> Ended = Task.FromResult<PipeReader?>(null);

    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private CancellationTokenRegistration _callerRegistration;
    private Timer? _deadlineTimer;
    private TimeSpan? _timeout;
    private volatile bool _deadlineExceeded;
    private Task<PipeReader?> _responseStarted = Ended;
    private HttpRequestMessage? _request;
    private HttpResponseMessage? _response;
    private MessageReader<TResponse>? _reader;
    private StreamingRequestContent? _requestStream;
    private FrameSerializationContext? _writeContext;
    private Task _pendingWrite = Task.CompletedTask;
    private bool _requestCompleted;
    private Status? _status;
    private Metadata? _trailers;
    private TResponse? _current;

    public GrpcCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
    }

    public Task<Metadata> ResponseHeadersAsync => _headers.Task;

    public TResponse Current => _current ?? throw new InvalidOperationException("MoveNext has not returned a message.");

    public void StartWithRequest(TRequest request)
    {
        if (!StartTimers())
        {
            return;
        }

        var frameOwner = new FrameSerializationContext(_channel.MaxSendMessageSize);
        ReadOnlyMemory<byte> frame;
        try
        {
            frame = frameOwner.Serialize(_method.RequestMarshaller, request);
        }
        catch (Exception ex)
        {
            frameOwner.Dispose();
            Finish(ex is RpcException rpc ? rpc.Status : new Status(StatusCode.Internal, $"Error serializing the request: {ex.Message}"), new Metadata());
            return;
        }

        Send(new SingleMessageContent(frameOwner, frame));
    }

    public void StartWithRequestStream()
    {
        _writeContext = new FrameSerializationContext(_channel.MaxSendMessageSize);
        _requestStream = new StreamingRequestContent();
        if (StartTimers())
        {
            Send(_requestStream);
        }
    }

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        PipeReader? pipe = await _responseStarted.ConfigureAwait(false);
        if (pipe is not null && _status is null)
        {
            _reader ??= new MessageReader<TResponse>(pipe, _method.ResponseMarshaller, _channel.MaxReceiveMessageSize, compressionRequested: IsCompressed(_response!));
            using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static state => ((GrpcCall<TRequest, TResponse>)state!).Cancel(), this);
            try
            {
                (bool read, TResponse? message) = await _reader.ReadAsync(_cancellation.Token).ConfigureAwait(false);
                if (read)
                {
                    _current = message;
                    return true;
                }

                HttpResponseHeaders trailers = _response!.TrailingHeaders;
                Finish(ReadStatus(trailers) ?? new Status(StatusCode.Internal, "The response ended without a grpc-status trailer."), ReadMetadata(trailers));
            }
            catch (RpcException ex)
            {
                Finish(ex.Status, new Metadata());
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
            {
                Finish(StatusOf(ex), new Metadata());
            }

            await pipe.CompleteAsync().ConfigureAwait(false);
        }

        ThrowIfFailed();
        return false;
    }

    /// <summary>The one response of a unary or client-streaming call.</summary>
    public async Task<TResponse> ReadSingleResponseAsync()
    {
        if (!await MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw Replace(new Status(StatusCode.Internal, "The server ended the call without a response message."));
        }

        TResponse response = Current;
        if (await MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw Replace(new Status(StatusCode.Internal, "The server sent more than one response message."));
        }

        return response;
    }

    public Task WriteAsync(TRequest message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(TRequest message, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_requestCompleted)
            {
                throw new InvalidOperationException("The request stream has been completed.");
            }

            if (!_pendingWrite.IsCompleted)
            {
                throw new InvalidOperationException("A previous write is still in progress: await each write.");
            }

            if (_status is Status status)
            {
                throw new RpcException(status, _trailers ?? new Metadata());
            }

            return _pendingWrite = WriteCoreAsync(message, cancellationToken);
        }
    }

    public Task CompleteAsync()
    {
        lock (_gate)
        {
            if (!_pendingWrite.IsCompleted)
            {
                throw new InvalidOperationException("A previous write is still in progress: await it before completing.");
            }

            _requestCompleted = true;
        }

        _requestStream!.Complete();
        return Task.CompletedTask;
    }

    public Status GetStatus() => _status ?? throw new InvalidOperationException("The call has not ended: read the response to its end first.");

    public Metadata GetTrailers() => _trailers ?? throw new InvalidOperationException("The call has not ended: read the response to its end first.");

    public void Dispose()
    {
        Finish(new Status(StatusCode.Cancelled, "The call was disposed."), new Metadata());
        lock (_gate)
        {
            if (_pendingWrite.IsCompleted)
            {
                _writeContext?.Dispose();
                _writeContext = null;
            }
        }
    }

    private async Task WriteCoreAsync(TRequest message, CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static state => ((GrpcCall<TRequest, TResponse>)state!).Cancel(), this);
        try
        {
            ReadOnlyMemory<byte> frame = _writeContext!.Serialize(_method.RequestMarshaller, message);
            Stream stream = await _requestStream!.GetStreamAsync(_cancellation.Token).ConfigureAwait(false);
            await stream.WriteAsync(frame, _cancellation.Token).ConfigureAwait(false);
            await stream.FlushAsync(_cancellation.Token).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
        {
            Finish(ex.Status, new Metadata());
            throw;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            Finish(StatusOf(ex), new Metadata());
            throw new RpcException(_status!.Value, _trailers!);
        }
    }

    /// <summary>Starts the deadline timer and the caller's cancellation; false if the deadline has already passed.</summary>
    private bool StartTimers()
    {
        if (_options.Deadline is DateTime deadline && deadline != DateTime.MaxValue)
        {
            TimeSpan timeout = deadline.ToUniversalTime() - DateTime.UtcNow;
            if (timeout <= TimeSpan.Zero)
            {
                _deadlineExceeded = true;
                Finish(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), new Metadata());
                return false;
            }

            _timeout = timeout;
            _deadlineTimer = new Timer(static state => ((GrpcCall<TRequest, TResponse>)state!).OnDeadline(), this, timeout, Timeout.InfiniteTimeSpan);
        }

        _callerRegistration = _options.CancellationToken.UnsafeRegister(static state => ((GrpcCall<TRequest, TResponse>)state!).Cancel(), this);
        return true;
    }

    private void Send(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_channel.Address, _method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        request.Headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.IdentityEncoding);
        if (_timeout is TimeSpan timeout)
        {
            request.Headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(timeout));
        }

        foreach (Metadata.Entry entry in _options.Headers ?? [])
        {
            if (!GrpcProtocol.IsReservedHeader(entry.Key))
            {
                request.Headers.TryAddWithoutValidation(entry.Key, MetadataHeaders.ToHeaderValue(entry));
            }
        }

        _request = request;
        _responseStarted = SendAsync(request);
    }

    private async Task<PipeReader?> SendAsync(HttpRequestMessage request)
    {
        HttpResponseMessage response;
        try
        {
            response = await _channel.Invoker.SendAsync(request, _cancellation.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            Finish(StatusOf(ex), new Metadata());
            return null;
        }

        lock (_gate)
        {
            if (_status is not null)
            {
                response.Dispose();
                return null;
            }

            _response = response;
        }

        Metadata headers = ReadMetadata(response.Headers);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Finish(new Status(StatusOfHttp(response.StatusCode), $"Bad gRPC response: HTTP status {(int)response.StatusCode}."), headers);
            return null;
        }

        if (ReadStatus(response.Headers) is Status trailersOnly)
        {
            _headers.TrySetResult(headers);
            Finish(trailersOnly, headers);
            return null;
        }

        if (!GrpcProtocol.IsGrpcContentType(response.Content.Headers.ContentType?.MediaType))
        {
            Finish(new Status(StatusCode.Internal, $"Bad gRPC response: content-type '{response.Content.Headers.ContentType}'."), headers);
            return null;
        }

        _headers.TrySetResult(headers);
        try
        {
            Stream body = await response.Content.ReadAsStreamAsync(_cancellation.Token).ConfigureAwait(false);
            return PipeReader.Create(body, new StreamPipeReaderOptions(leaveOpen: true));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            Finish(StatusOf(ex), new Metadata());
            return null;
        }
    }

    /// <summary>Records the call's outcome once and releases the HTTP exchange (a response not read to its end is reset).</summary>
    private void Finish(Status status, Metadata trailers)
    {
        lock (_gate)
        {
            if (_status is not null)
            {
                return;
            }

            _status = status;
            _trailers = trailers;
        }

        if (status.StatusCode != StatusCode.OK)
        {
            _cancellation.Cancel();
        }

        if (_headers.TrySetException(new RpcException(status, trailers)))
        {
            _ = _headers.Task.Exception; // observed: callers that never ask for headers must not see it as unobserved
        }

        ReleaseExchange();
    }

    /// <summary>Overrides an OK status the response contradicts (a unary call with zero or two messages).</summary>
    private RpcException Replace(Status status)
    {
        lock (_gate)
        {
            _status = status;
        }

        _cancellation.Cancel();
        ReleaseExchange();
        return new RpcException(status, _trailers ?? new Metadata());
    }

    private void ReleaseExchange()
    {
        _deadlineTimer?.Dispose();
        _callerRegistration.Dispose();
        _requestStream?.Abort();
        _response?.Dispose();
        _request?.Dispose();
    }

    private void ThrowIfFailed()
    {
        Status status = _status!.Value;
        if (status.StatusCode != StatusCode.OK)
        {
            throw new RpcException(status, _trailers!);
        }
    }

    private void OnDeadline()
    {
        _deadlineExceeded = true;
        Finish(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), new Metadata());
    }

    private void Cancel() => Finish(new Status(StatusCode.Cancelled, "The call was cancelled by the client."), new Metadata());

    private Status StatusOf(Exception exception) => exception switch
    {
        _ when _deadlineExceeded => new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"),
        _ when _cancellation.IsCancellationRequested => new Status(StatusCode.Cancelled, "The call was cancelled by the client."),
        HttpProtocolException { ErrorCode: 0x8 } => new Status(StatusCode.Cancelled, "The server reset the stream (CANCEL)."),
        HttpProtocolException { ErrorCode: 0x7 } => new Status(StatusCode.Unavailable, "The server refused the stream."),
        HttpProtocolException protocol => new Status(StatusCode.Internal, $"HTTP/2 error {protocol.ErrorCode}: {protocol.Message}"),
        _ => new Status(StatusCode.Unavailable, $"Error talking to the server: {exception.Message}"),
    };

    // grpc/doc/http-grpc-status-mapping.md
    private static StatusCode StatusOfHttp(HttpStatusCode code) => (int)code switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    private static Status? ReadStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues(GrpcProtocol.StatusHeader, out IEnumerable<string>? statusValues))
        {
            return null;
        }

        string? message = headers.TryGetValues(GrpcProtocol.MessageHeader, out IEnumerable<string>? messages) ? messages.FirstOrDefault() : null;
        string detail = message is null ? string.Empty : PercentEncoding.Decode(message);
        return int.TryParse(statusValues.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int code)
            ? new Status((StatusCode)code, detail)
            : new Status(StatusCode.Unknown, $"Unparsable grpc-status; message: {detail}");
    }

    private static Metadata ReadMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach ((string name, IEnumerable<string> values) in headers)
        {
            foreach (string value in values)
            {
                MetadataHeaders.AddReceived(metadata, name, value);
            }
        }

        return metadata;
    }

    private static bool IsCompressed(HttpResponseMessage response) =>
        response.Headers.TryGetValues(GrpcProtocol.EncodingHeader, out IEnumerable<string>? values)
        && values.Any(v => !v.Equals(GrpcProtocol.IdentityEncoding, StringComparison.OrdinalIgnoreCase));
}
