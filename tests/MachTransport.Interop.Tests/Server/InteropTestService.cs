// grpc.testing.TestService on grpc-dotnet: the server features of doc/interop-test-descriptions.md (grpc/grpc),
// compression included: a requested compressed response is gzip (grpc-dotnet's per-call
// "grpc-internal-encoding-request" response header), and expect_compressed is checked against the request
// message's own compressed flag (recorded by InteropServer's body tap), not the grpc-encoding header.
using Google.Protobuf;
using Grpc.Core;
using Grpc.Testing;

namespace MachTransport.Interop.Tests.Server;

internal sealed class InteropTestService : TestService.TestServiceBase
{
    public const string EchoInitialKey = "x-grpc-test-echo-initial";
    public const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";

    // grpc-dotnet's call-level compression header: set on the response headers, it compresses this call's responses.
    private const string CompressionRequestHeader = "grpc-internal-encoding-request";

    public override async Task<Empty> EmptyCall(Empty request, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        return new Empty();
    }

    public override async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        await EchoMetadataAsync(context, compress: request.ResponseCompressed?.Value == true);
        ThrowIfStatusRequested(request.ResponseStatus);
        if (request.ExpectCompressed?.Value == true && InteropServer.RequestFirstByte(context) != 1)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "expect_compressed is set but the request message was not compressed"));
        }

        return new SimpleResponse { Payload = ZerosPayload(request.ResponseSize) };
    }

    public override async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        ThrowIfStatusRequested(request.ResponseStatus);
        await RespondAsync(request.ResponseParameters, responseStream, context);
    }

    public override async Task<StreamingInputCallResponse> StreamingInputCall(IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        int size = 0;
        await foreach (StreamingInputCallRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            size += request.Payload?.Body.Length ?? 0;
        }

        return new StreamingInputCallResponse { AggregatedPayloadSize = size };
    }

    public override async Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        await foreach (StreamingOutputCallRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            ThrowIfStatusRequested(request.ResponseStatus);
            await RespondAsync(request.ResponseParameters, responseStream, context);
        }
    }

    public override async Task HalfDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        var parameters = new List<ResponseParameters>();
        await foreach (StreamingOutputCallRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            ThrowIfStatusRequested(request.ResponseStatus);
            parameters.AddRange(request.ResponseParameters);
        }

        await RespondAsync(parameters, responseStream, context);
    }

    private static ByteString Zeros(int size) => ByteString.CopyFrom(new byte[size]);

    private static Payload ZerosPayload(int size) => new() { Body = Zeros(size) };

    private static void ThrowIfStatusRequested(EchoStatus? status)
    {
        if (status is { Code: not 0 })
        {
            throw new RpcException(new Status((StatusCode)status.Code, status.Message));
        }
    }

    /// <summary>Echo Metadata: the initial key back as a header, the trailing one as a trailer.</summary>
    private static async Task EchoMetadataAsync(ServerCallContext context, bool compress = false)
    {
        var headers = new Metadata();
        if (context.RequestHeaders.Get(EchoInitialKey) is { } initial)
        {
            headers.Add(EchoInitialKey, initial.Value);
        }

        if (compress)
        {
            headers.Add(CompressionRequestHeader, "gzip");
        }

        if (context.RequestHeaders.Get(EchoTrailingKey) is { } trailing)
        {
            context.ResponseTrailers.Add(EchoTrailingKey, trailing.ValueBytes);
        }

        if (headers.Count > 0)
        {
            await context.WriteResponseHeadersAsync(headers);
        }
    }

    /// <summary>One response per parameter, each after its interval; per-message compression as asked.</summary>
    private static async Task RespondAsync(IEnumerable<ResponseParameters> parameters, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        foreach (ResponseParameters parameter in parameters)
        {
            if (parameter.IntervalUs > 0)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(parameter.IntervalUs), context.CancellationToken);
            }

            responseStream.WriteOptions = parameter.Compressed?.Value == true ? new WriteOptions() : new WriteOptions(WriteFlags.NoCompress);
            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = ZerosPayload(parameter.Size) }, context.CancellationToken);
        }
    }
}
