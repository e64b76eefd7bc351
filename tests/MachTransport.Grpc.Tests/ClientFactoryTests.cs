using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>Grpc.Net.ClientFactory's typed clients on a Mach service, through <c>UseMachService</c>.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class ClientFactoryTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    [Fact]
    public async Task AddGrpcClientWithUseMachServiceCallsTheServiceAndKeepsTheChannelOptions()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrpcClient<Tester.TesterClient>()
            .UseMachService(server.ServiceName)
            .ConfigureChannel(options => options.MaxReceiveMessageSize = 1024);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<Tester.TesterClient>();

        EchoReply reply = await client.EchoAsync(new EchoRequest { Message = "factory" }, deadline: DateTime.UtcNow.AddSeconds(30));
        RpcException tooLarge = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[2048]) }, deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal("factory", reply.Message);
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
    }

    [Fact]
    public void AnInvalidServiceNameFailsWhereItIsGiven()
    {
        var services = new ServiceCollection();

        ArgumentException error = Assert.Throws<ArgumentException>(() => services.AddGrpcClient<Tester.TesterClient>().UseMachService("has/slash"));

        Assert.Equal("serviceName", error.ParamName);
    }

    [Fact]
    public void AChannelWithAnHttpHandlerOfItsOwnIsRefused()
    {
        using var handler = new HttpClientHandler();

        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            MachGrpcChannel.ForService(server.ServiceName, new GrpcChannelOptions { HttpHandler = handler }));

        Assert.Equal("channelOptions", error.ParamName);
    }
}
