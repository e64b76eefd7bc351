// A grpc-dotnet interop client: the cases of doc/interop-test-descriptions.md (grpc/grpc), each asserting what the
// description's "Client asserts" says, against a channel the test gives (over Mach, or TCP through machctl).
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Testing;
using MachTransport.Interop.Tests.Server;
using Xunit;

namespace MachTransport.Interop.Tests.Client;

/// <param name="createChannel">A new channel to the server.</param>
/// <param name="createHandler">A new HTTP handler reaching the server at <paramref name="address"/>, for a channel whose responses are inspected.</param>
/// <param name="address">The address channels over <paramref name="createHandler"/> are created for.</param>
internal sealed class InteropClient(Func<GrpcChannel> createChannel, Func<HttpMessageHandler> createHandler, Uri address)
{
    public const string SpecialStatusMessage = "\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \U0001F608\t\n";

    // grpc-dotnet's call-level compression header: in a call's headers, it compresses that call's request.
    private const string CompressionRequestHeader = "grpc-internal-encoding-request";

    private static readonly byte[] EchoTrailingValue = [0xab, 0xab, 0xab];

    /// <summary>The standard cases whose assertions hold whichever peer serves them.</summary>
    public static IReadOnlyList<string> StandardCaseNames { get; } =
    [
        "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
        "timeout_on_sleeping_server", "cancel_after_begin", "cancel_after_first_response", "custom_metadata",
        "status_code_and_message", "special_status_message", "unimplemented_method", "unimplemented_service",
    ];

    /// <summary><see cref="StandardCaseNames"/> as xunit theory data.</summary>
    public static TheoryData<string> StandardCases { get; } = new(StandardCaseNames);

    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    public Task RunAsync(string testCase) => testCase switch
    {
        "empty_unary" => EmptyUnaryAsync(),
        "large_unary" => LargeUnaryAsync(),
        "client_compressed_unary" => ClientCompressedUnaryAsync(probe: true),
        "server_compressed_unary" => ServerCompressedUnaryAsync(),
        "client_streaming" => ClientStreamingAsync(),
        "server_streaming" => ServerStreamingAsync(),
        "ping_pong" => PingPongAsync(),
        "empty_stream" => EmptyStreamAsync(),
        "timeout_on_sleeping_server" => TimeoutOnSleepingServerAsync(),
        "cancel_after_begin" => CancelAfterBeginAsync(),
        "cancel_after_first_response" => CancelAfterFirstResponseAsync(),
        "custom_metadata" => CustomMetadataAsync(),
        "status_code_and_message" => StatusCodeAndMessageAsync("test status message"),
        "special_status_message" => StatusCodeAndMessageAsync(SpecialStatusMessage),
        "unimplemented_method" => UnimplementedMethodAsync(),
        "unimplemented_service" => UnimplementedServiceAsync(),
        _ => throw new ArgumentException($"Unknown interop case {testCase}.", nameof(testCase)),
    };

    /// <summary>client_compressed_unary; <paramref name="probe"/> false leaves out the feature probe (step 1).</summary>
    public async Task ClientCompressedUnaryAsync(bool probe)
    {
        using GrpcChannel channel = createChannel();
        var client = new TestService.TestServiceClient(channel);
        if (probe)
        {
            RpcException rejected = await Assert.ThrowsAsync<RpcException>(() => client.UnaryCallAsync(LargeRequest(expectCompressed: true), deadline: Deadline).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, rejected.StatusCode);
        }

        var gzip = new Metadata { { CompressionRequestHeader, "gzip" } };
        AssertZeros((await client.UnaryCallAsync(LargeRequest(expectCompressed: true), gzip, Deadline)).Payload, 314159);
        AssertZeros((await client.UnaryCallAsync(LargeRequest(expectCompressed: false), deadline: Deadline)).Payload, 314159);
    }

    /// <summary>One server_compressed_unary call: the response's compressed flag as <paramref name="compressed"/> asks.</summary>
    public async Task<int> ServerCompressedUnaryFlagAsync(bool compressed)
    {
        var recorder = new ResponseFlagHandler(createHandler());
        using GrpcChannel channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = recorder, DisposeHttpClient = true });
        SimpleRequest request = LargeRequest();
        request.ResponseCompressed = new BoolValue { Value = compressed };
        AssertZeros((await new TestService.TestServiceClient(channel).UnaryCallAsync(request, deadline: Deadline)).Payload, 314159);
        return recorder.LastFlag;
    }

    private static SimpleRequest LargeRequest(bool? expectCompressed = null) => new()
    {
        ResponseSize = 314159,
        Payload = new Payload { Body = ByteString.CopyFrom(new byte[271828]) },
        ExpectCompressed = expectCompressed is bool value ? new BoolValue { Value = value } : null,
    };

    private static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };

    private static void AssertZeros(Payload payload, int size)
    {
        Assert.Equal(size, payload.Body.Length);
        Assert.True(payload.Body.Span.IndexOfAnyExcept((byte)0) < 0, "the payload body is not all zeros");
    }

    private static StreamingOutputCallRequest Ask(int responseSize, int payloadSize) => new()
    {
        ResponseParameters = { new ResponseParameters { Size = responseSize } },
        Payload = Zeros(payloadSize),
    };

    private async Task ServerCompressedUnaryAsync()
    {
        Assert.Equal(1, await ServerCompressedUnaryFlagAsync(compressed: true));
        Assert.Equal(0, await ServerCompressedUnaryFlagAsync(compressed: false));
    }

    private async Task WithClientAsync(Func<TestService.TestServiceClient, Task> body)
    {
        using GrpcChannel channel = createChannel();
        await body(new TestService.TestServiceClient(channel));
    }

    private Task EmptyUnaryAsync() => WithClientAsync(async client => Assert.NotNull(await client.EmptyCallAsync(new Empty(), deadline: Deadline)));

    private Task LargeUnaryAsync() => WithClientAsync(async client => AssertZeros((await client.UnaryCallAsync(LargeRequest(), deadline: Deadline)).Payload, 314159));

    private Task ClientStreamingAsync() => WithClientAsync(async client =>
    {
        using AsyncClientStreamingCall<StreamingInputCallRequest, StreamingInputCallResponse> call = client.StreamingInputCall(deadline: Deadline);
        foreach (int size in new[] { 27182, 8, 1828, 45904 })
        {
            await call.RequestStream.WriteAsync(new StreamingInputCallRequest { Payload = Zeros(size) });
        }

        await call.RequestStream.CompleteAsync();
        Assert.Equal(74922, (await call.ResponseAsync).AggregatedPayloadSize);
    });

    private Task ServerStreamingAsync() => WithClientAsync(async client =>
    {
        int[] sizes = [31415, 9, 2653, 58979];
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.AddRange(sizes.Select(size => new ResponseParameters { Size = size }));
        using AsyncServerStreamingCall<StreamingOutputCallResponse> call = client.StreamingOutputCall(request, deadline: Deadline);
        List<StreamingOutputCallResponse> responses = await call.ResponseStream.ReadAllAsync().ToListAsync();
        Assert.Equal(sizes, responses.Select(r => r.Payload.Body.Length));
        responses.ForEach(r => AssertZeros(r.Payload, r.Payload.Body.Length));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    });

    private Task PingPongAsync() => WithClientAsync(async client =>
    {
        int[] requestSizes = [27182, 8, 1828, 45904];
        int[] responseSizes = [31415, 9, 2653, 58979];
        using AsyncDuplexStreamingCall<StreamingOutputCallRequest, StreamingOutputCallResponse> call = client.FullDuplexCall(deadline: Deadline);
        for (int i = 0; i < 4; i++)
        {
            await call.RequestStream.WriteAsync(Ask(responseSizes[i], requestSizes[i]));
            Assert.True(await call.ResponseStream.MoveNext());
            AssertZeros(call.ResponseStream.Current.Payload, responseSizes[i]);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    });

    private Task EmptyStreamAsync() => WithClientAsync(async client =>
    {
        using AsyncDuplexStreamingCall<StreamingOutputCallRequest, StreamingOutputCallResponse> call = client.FullDuplexCall(deadline: Deadline);
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    });

    private Task TimeoutOnSleepingServerAsync() => WithClientAsync(async client =>
    {
        using AsyncDuplexStreamingCall<StreamingOutputCallRequest, StreamingOutputCallResponse> call = client.FullDuplexCall(deadline: DateTime.UtcNow.AddMilliseconds(1));
        RpcException timedOut = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(new StreamingOutputCallRequest { Payload = Zeros(27182) });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.DeadlineExceeded, timedOut.StatusCode);
    });

    private Task CancelAfterBeginAsync() => WithClientAsync(async client =>
    {
        using var cancel = new CancellationTokenSource();
        using AsyncClientStreamingCall<StreamingInputCallRequest, StreamingInputCallResponse> call = client.StreamingInputCall(deadline: Deadline, cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        RpcException cancelled = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
    });

    private Task CancelAfterFirstResponseAsync() => WithClientAsync(async client =>
    {
        using var cancel = new CancellationTokenSource();
        using AsyncDuplexStreamingCall<StreamingOutputCallRequest, StreamingOutputCallResponse> call = client.FullDuplexCall(deadline: Deadline, cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(Ask(31415, 27182));
        Assert.True(await call.ResponseStream.MoveNext());
        await cancel.CancelAsync();
        RpcException cancelled = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
    });

    private Task CustomMetadataAsync() => WithClientAsync(async client =>
    {
        var metadata = new Metadata
        {
            { InteropTestService.EchoInitialKey, "test_initial_metadata_value" },
            { InteropTestService.EchoTrailingKey, EchoTrailingValue },
        };
        using (AsyncUnaryCall<SimpleResponse> unary = client.UnaryCallAsync(LargeRequest(), metadata, Deadline))
        {
            AssertZeros((await unary).Payload, 314159);
            AssertEchoed(await unary.ResponseHeadersAsync, unary.GetTrailers());
        }

        using AsyncDuplexStreamingCall<StreamingOutputCallRequest, StreamingOutputCallResponse> duplex = client.FullDuplexCall(metadata, Deadline);
        await duplex.RequestStream.WriteAsync(Ask(314159, 271828));
        await duplex.RequestStream.CompleteAsync();
        Assert.Single(await duplex.ResponseStream.ReadAllAsync().ToListAsync());
        AssertEchoed(await duplex.ResponseHeadersAsync, duplex.GetTrailers());
    });

    private static void AssertEchoed(Metadata headers, Metadata trailers)
    {
        Assert.Equal("test_initial_metadata_value", headers.GetValue(InteropTestService.EchoInitialKey));
        Assert.Equal(EchoTrailingValue, trailers.GetValueBytes(InteropTestService.EchoTrailingKey));
    }

    private Task StatusCodeAndMessageAsync(string message) => WithClientAsync(async client =>
    {
        var status = new EchoStatus { Code = 2, Message = message };
        RpcException unary = await Assert.ThrowsAsync<RpcException>(() => client.UnaryCallAsync(new SimpleRequest { ResponseStatus = status }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.Unknown, unary.StatusCode);
        Assert.Equal(message, unary.Status.Detail);

        using AsyncDuplexStreamingCall<StreamingOutputCallRequest, StreamingOutputCallResponse> duplex = client.FullDuplexCall(deadline: Deadline);
        await duplex.RequestStream.WriteAsync(new StreamingOutputCallRequest { ResponseStatus = status });
        await duplex.RequestStream.CompleteAsync();
        RpcException streamed = await Assert.ThrowsAsync<RpcException>(() => duplex.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unknown, streamed.StatusCode);
        Assert.Equal(message, streamed.Status.Detail);
    });

    private Task UnimplementedMethodAsync() => WithClientAsync(async client =>
        Assert.Equal(StatusCode.Unimplemented, (await Assert.ThrowsAsync<RpcException>(() => client.UnimplementedCallAsync(new Empty(), deadline: Deadline).ResponseAsync)).StatusCode));

    private async Task UnimplementedServiceAsync()
    {
        using GrpcChannel channel = createChannel();
        var client = new UnimplementedService.UnimplementedServiceClient(channel);
        Assert.Equal(StatusCode.Unimplemented, (await Assert.ThrowsAsync<RpcException>(() => client.UnimplementedCallAsync(new Empty(), deadline: Deadline).ResponseAsync)).StatusCode);
    }
}
