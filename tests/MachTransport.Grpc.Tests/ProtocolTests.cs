using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using MachTransport.Grpc.Tests.Server;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>Calls the server or the client cannot serve: unknown services and methods, messages over either side's limits.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class ProtocolTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create<byte[]>(b => b, b => b);

    [Theory]
    [InlineData("machtransport.tests.Tester", "NoSuchMethod", "Method is unimplemented.")]
    [InlineData("no.such.Service", "Echo", "Service is unimplemented.")]
    public async Task AnUnknownMethodOrServiceIsUnimplemented(string service, string method, string detail)
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var unknown = new Method<byte[], byte[]>(MethodType.Unary, service, method, Bytes, Bytes);

        using AsyncUnaryCall<byte[]> call = channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), []);
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await call);

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Equal(detail, error.Status.Detail);
    }

    [Fact]
    public async Task ARequestOverTheServersLimitIsResourceExhausted()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[TesterServer.MaxReceiveMessageSize + 1]) }, deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task AResponseOverTheClientsLimitIsResourceExhausted()
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
    public async Task ARequestOverTheClientsSendLimitFailsBeforeItIsSent()
    {
        using GrpcChannel channel = server.CreateMachChannel(new GrpcChannelOptions { MaxSendMessageSize = 100 });
        var client = new Tester.TesterClient(channel);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) }, deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }
}
