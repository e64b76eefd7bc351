using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>
/// A server that is not there, dies or comes back: over Mach the client sees what it sees over a socket
/// (UNAVAILABLE, with the transport's reason in the detail), and channels and retry policies recover by themselves.
/// </summary>
[Trait("Category", "Grpc")]
[Trait("Category", "Fault")]
public sealed class FaultTests
{
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(60);

    [Fact]
    public async Task ACallToAServiceNobodyRegisteredIsUnavailableWithTheReason()
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(TestEnvironment.UniqueServiceName("nobody"));
        var client = new Tester.TesterClient(channel);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(new EchoRequest(), deadline: Deadline));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("No Mach service named", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KillingTheServerMidStreamIsUnavailableThenTheSameChannelWorksAfterARestart()
    {
        string service = TestEnvironment.UniqueServiceName("restart");
        (ChildProcess first, _) = await TesterServerFixture.StartServerAsync(service);
        await using ChildProcess firstServer = first;
        using GrpcChannel channel = MachGrpcChannel.ForService(service);
        var client = new Tester.TesterClient(channel);

        using AsyncServerStreamingCall<EchoReply> call = client.Countdown(new EchoRequest { Message = "k", Count = 100_000, DelayMs = 5 }, deadline: Deadline);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        await firstServer.KillAsync();
        RpcException midStream = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        RpcException whileDown = await Assert.ThrowsAsync<RpcException>(async () => await client.EchoAsync(new EchoRequest { Message = "down" }, deadline: Deadline));

        (ChildProcess second, _) = await TesterServerFixture.StartServerAsync(service);
        await using ChildProcess secondServer = second;
        EchoReply reply = await client.EchoAsync(new EchoRequest { Message = "back" }, deadline: Deadline);

        Assert.Equal(StatusCode.Unavailable, midStream.StatusCode);
        Assert.Equal(StatusCode.Unavailable, whileDown.StatusCode);
        Assert.Matches("No Mach service named|server is gone", whileDown.Status.Detail);
        Assert.Equal("back", reply.Message);
    }

    [Fact]
    public async Task ARetryPolicyRidesOverAServerRestartWithoutTheCallerSeeingAnError()
    {
        string service = TestEnvironment.UniqueServiceName("retry");
        (ChildProcess first, _) = await TesterServerFixture.StartServerAsync(service);
        await using ChildProcess firstServer = first;
        // Backoffs are random in [0, backoff): many short ones make a window of seconds, enough for a restart.
        using GrpcChannel channel = MachGrpcChannel.ForService(service, new GrpcChannelOptions
        {
            MaxRetryAttempts = 100,
            ServiceConfig = new ServiceConfig
            {
                MethodConfigs =
                {
                    new MethodConfig
                    {
                        Names = { MethodName.Default },
                        RetryPolicy = new RetryPolicy
                        {
                            MaxAttempts = 100,
                            InitialBackoff = TimeSpan.FromMilliseconds(200),
                            MaxBackoff = TimeSpan.FromMilliseconds(500),
                            BackoffMultiplier = 1.5,
                            RetryableStatusCodes = { StatusCode.Unavailable },
                        },
                    },
                },
            },
        });
        var client = new Tester.TesterClient(channel);
        Assert.Equal(0, (await client.EchoAsync(new EchoRequest { Message = "before" }, deadline: Deadline)).PreviousAttempts);

        await firstServer.KillAsync();
        Task<EchoReply> duringRestart = client.EchoAsync(new EchoRequest { Message = "during" }, deadline: Deadline).ResponseAsync;
        (ChildProcess second, _) = await TesterServerFixture.StartServerAsync(service);
        await using ChildProcess secondServer = second;
        EchoReply reply = await duringRestart;

        Assert.Equal("during", reply.Message);
        Assert.True(reply.PreviousAttempts >= 1, "The call reached the restarted server at its first attempt: nothing was retried.");
    }
}
