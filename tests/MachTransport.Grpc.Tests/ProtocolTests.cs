using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using MachTransport.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>What the server does with calls it cannot serve: unknown methods, oversized and malformed messages.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class ProtocolTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create<byte[]>(b => b, b => b);

    [Theory]
    [InlineData("machtransport.tests.Tester", "NoSuchMethod", "Method is unimplemented.")]
    [InlineData("no.such.Service", "Echo", "Service is unimplemented.")]
    public async Task An_unknown_method_or_service_is_UNIMPLEMENTED(string service, string method, string detail)
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var unknown = new Method<byte[], byte[]>(MethodType.Unary, service, method, Bytes, Bytes);

        using AsyncUnaryCall<byte[]> call = channel.CreateCallInvoker().AsyncUnaryCall(unknown, new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(30)), []);
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await call);

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Equal(detail, error.Status.Detail);
    }

    [Fact]
    public async Task A_request_over_the_4_MiB_default_is_RESOURCE_EXHAUSTED()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[(4 * 1024 * 1024) + 1]) }, deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task A_response_over_the_clients_limit_is_RESOURCE_EXHAUSTED()
    {
        using GrpcChannel channel = server.CreateMachChannel(new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });
        var client = new Tester.TesterClient(channel);

        EchoReply small = await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[512]) }, deadline: DateTime.UtcNow.AddSeconds(30));
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[2048]) }, deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal(512, small.Payload.Length);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task A_request_over_the_clients_send_limit_fails_before_it_is_sent()
    {
        using GrpcChannel channel = server.CreateMachChannel(new GrpcChannelOptions { MaxSendMessageSize = 100 });
        var client = new Tester.TesterClient(channel);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) }, deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 7, 0, 0, 0, 0 }, StatusCode.Internal)]                 // compressed flag neither 0 nor 1
    [InlineData(new byte[] { 1, 0, 0, 0, 1, 0 }, StatusCode.Internal)]              // compressed, but no grpc-encoding
    [InlineData(new byte[] { 0, 0, 0, 0, 100, 1, 2, 3 }, StatusCode.Internal)]      // the body ends inside the frame
    [InlineData(new byte[] { 0, 0, 0 }, StatusCode.Internal)]                       // the body ends inside the header
    [InlineData(new byte[] { }, StatusCode.Internal)]                               // no message at all
    [InlineData(new byte[] { 0, 0, 0x50, 0, 0 }, StatusCode.ResourceExhausted)]     // declares 5 MiB
    public async Task A_malformed_request_body_ends_the_call_with_a_status(byte[] body, StatusCode expected)
    {
        using HttpClient client = RawClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/machtransport.tests.Tester/Echo")
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));

        using HttpResponseMessage response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), GrpcStatus(response));
    }

    [Fact]
    public async Task A_request_that_is_not_gRPC_gets_415()
    {
        using HttpClient client = RawClient();
        using var content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await client.PostAsync("/machtransport.tests.Tester/Echo", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    private HttpClient RawClient() => new(MachHttpHandler.Create(server.ServiceName))
    {
        BaseAddress = new Uri("http://localhost"),
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static string? GrpcStatus(HttpResponseMessage response) =>
        response.Headers.TryGetValues("grpc-status", out IEnumerable<string>? values) || response.TrailingHeaders.TryGetValues("grpc-status", out values)
            ? values.Single()
            : null;
}
