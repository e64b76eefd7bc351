using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>The four kinds of call, metadata and status, between this process and a server process over Mach.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class CallTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    [Fact]
    public async Task UnaryCallReturnsTheReplyOfTheServerProcess()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        byte[] payload = new byte[1024 * 1024];
        Random.Shared.NextBytes(payload);

        EchoReply reply = await client.EchoAsync(new EchoRequest { Message = "hello", Payload = ByteString.CopyFrom(payload) }, deadline: Deadline);

        Assert.Equal("hello", reply.Message);
        Assert.Equal(payload, reply.Payload.ToByteArray());
    }

    [Fact]
    public async Task ServerStreamingDeliversEveryMessageInOrderThenOK()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        using AsyncServerStreamingCall<EchoReply> call = client.Countdown(new EchoRequest { Message = "n", Count = 100 }, deadline: Deadline);
        var messages = new List<string>();
        await foreach (EchoReply reply in call.ResponseStream.ReadAllAsync())
        {
            messages.Add(reply.Message);
        }

        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"n {i}"), messages);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ClientStreamingSumsTheRequestStream()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        using AsyncClientStreamingCall<Number, Number> call = client.Sum(deadline: Deadline);
        for (int i = 1; i <= 1000; i++)
        {
            await call.RequestStream.WriteAsync(new Number { Value = i });
        }

        await call.RequestStream.CompleteAsync();
        Number sum = await call;

        Assert.Equal(500_500, sum.Value);
    }

    [Fact]
    public async Task DuplexStreamingAnswersEachMessageBeforeTheNextIsSent()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        using AsyncDuplexStreamingCall<EchoRequest, EchoReply> call = client.Chat(deadline: Deadline);
        for (int i = 0; i < 20; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal($"re: m{i}", call.ResponseStream.Current.Message);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ACallMayStreamMoreThanKestrels30MBRequestBodyLimit()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        var payload = ByteString.CopyFrom(new byte[1024 * 1024]);
        const int Messages = 32;

        using AsyncDuplexStreamingCall<EchoRequest, EchoReply> call = client.Chat(deadline: Deadline);
        Task<int> replies = CountAsync(call.ResponseStream);
        for (int i = 0; i < Messages; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = "big", Payload = payload });
        }

        await call.RequestStream.CompleteAsync();

        Assert.Equal(Messages, await replies);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task HeadersAndTrailersCarryAsciiAndBinaryMetadataBothWays()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        byte[] binary = [0, 1, 2, 250, 255];

        using AsyncUnaryCall<EchoReply> call = client.EchoAsync(
            new EchoRequest { Message = "meta" },
            new Metadata { { "x-echo", "value 1" }, { "x-echo-bin", binary } },
            Deadline);
        Metadata headers = await call.ResponseHeadersAsync;
        await call;

        Assert.Equal("value 1", headers.GetValue("x-echo"));
        Metadata trailers = call.GetTrailers();
        Assert.Equal("value 1", trailers.GetValue("x-echo-trailer"));
        Assert.Equal(binary, trailers.GetValueBytes("x-echo-bin"));
    }

    [Fact]
    public async Task GzipCompressesTheRequestAndTheResponse()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        var request = new EchoRequest { Message = "zip", Payload = ByteString.CopyFrom(new byte[64 * 1024]), CompressResponse = true }; // zeros compress well

        EchoReply reply = await client.EchoAsync(
            request,
            new Metadata { { "grpc-internal-encoding-request", "gzip" } }, // grpc-dotnet: compress this call's request
            Deadline);
        // The client hides grpc-encoding and decompresses by itself: look at the response on the wire.
        (HttpResponseMessage response, byte[] body) = await RawUnaryAsync("/machtransport.tests.Tester/Echo", request);

        Assert.Equal("gzip", reply.RequestEncoding);
        Assert.Equal(request.Payload, reply.Payload);
        Assert.Equal("gzip", response.Headers.GetValues("grpc-encoding").Single());
        Assert.Equal(1, body[0]); // the message's compressed flag
        Assert.True(body.Length < 1024, $"A compressed reply of 64 KiB of zeros took {body.Length} bytes.");
        response.Dispose();
    }

    private async Task<(HttpResponseMessage Response, byte[] Body)> RawUnaryAsync(string path, IMessage request)
    {
        byte[] message = request.ToByteArray();
        byte[] frame = new byte[5 + message.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
        message.CopyTo(frame, 5);
        using var http = new HttpClient(MachHttpHandler.Create(server.ServiceName)) { BaseAddress = new Uri("http://localhost") };
        using var content = new ByteArrayContent(frame);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        using var httpRequest = new HttpRequestMessage(HttpMethod.Post, path) { Content = content, Version = System.Net.HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        httpRequest.Headers.TE.ParseAdd("trailers");
        httpRequest.Headers.Add("grpc-accept-encoding", "gzip");
        HttpResponseMessage response = await http.SendAsync(httpRequest);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AStreamTheServerEndsWithAnErrorDeliversItsMessagesThenTheStatus()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        using AsyncServerStreamingCall<EchoReply> call = client.Countdown(
            new EchoRequest { Message = "e", Count = 3, StatusCode = (int)StatusCode.Aborted, StatusDetail = "server gave up" }, deadline: Deadline);
        var messages = new List<string>();
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (EchoReply reply in call.ResponseStream.ReadAllAsync())
            {
                messages.Add(reply.Message);
            }
        });

        Assert.Equal(["e 1", "e 2", "e 3"], messages);
        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        Assert.Equal("server gave up", error.Status.Detail);
    }

    private static async Task<int> CountAsync(IAsyncStreamReader<EchoReply> replies)
    {
        int count = 0;
        await foreach (EchoReply _ in replies.ReadAllAsync())
        {
            count++;
        }

        return count;
    }

    public static TheoryData<StatusCode> ErrorCodes => new(Enum.GetValues<StatusCode>().Where(c => c != StatusCode.OK));

    [Theory]
    [MemberData(nameof(ErrorCodes))]
    public async Task EveryErrorStatusReachesTheClientWithDetailAndTrailers(StatusCode code)
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        string detail = $"{code}: 100% naïve — ünïcödé\n";

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { StatusCode = (int)code, StatusDetail = detail }, deadline: Deadline));

        Assert.Equal(code, error.StatusCode);
        Assert.Equal(detail, error.Status.Detail);
        Assert.Equal("details", error.Trailers.GetValue("x-error"));
        Assert.Equal(new byte[] { 1, 2, 3 }, error.Trailers.GetValueBytes("x-error-bin"));
    }

    [Fact]
    public async Task AnExceptionInAHandlerIsUnknownWithoutItsMessage()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(new EchoRequest { Message = "throw" }, deadline: Deadline));

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Equal("Exception was thrown by handler.", error.Status.Detail);
    }

    [Fact]
    public async Task TheServerKeepsServingAfterFailedCalls()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(new EchoRequest { Message = "throw" }, deadline: Deadline));
        await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(new EchoRequest { StatusCode = (int)StatusCode.Internal }, deadline: Deadline));
        EchoReply reply = await client.EchoAsync(new EchoRequest { Message = "still here" }, deadline: Deadline);

        Assert.Equal("still here", reply.Message);
    }
}
