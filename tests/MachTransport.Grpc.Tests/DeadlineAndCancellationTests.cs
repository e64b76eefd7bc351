using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>Deadlines and cancellation across processes: the client's status, and what the server process observed.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class DeadlineAndCancellationTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    [Fact]
    public async Task TheDeadlineReachesTheServerAsGrpcTimeout()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        EchoReply reply = await client.EchoAsync(new EchoRequest { Message = "d" }, deadline: DateTime.UtcNow.AddSeconds(30));
        EchoReply none = await client.EchoAsync(new EchoRequest { Message = "d" });

        Assert.InRange(reply.DeadlineMs, 1, 30_000);
        Assert.Equal(-1, none.DeadlineMs);
    }

    [Fact]
    public async Task ADeadlineThatPassesIsDeadlineExceededAndCancelsTheHandler()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        string tag = Guid.NewGuid().ToString("N");
        // Connect and warm up first: on a cold, loaded machine the first call alone can outlast a short deadline,
        // and then the request never reaches the server (the case of the next test).
        _ = await client.EchoAsync(new EchoRequest { Message = "warm-up" });

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { DelayMs = 60_000, Tag = tag }, deadline: DateTime.UtcNow.AddMilliseconds(1000)));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal("cancelled", (await client.ObserveAsync(new EchoRequest { Message = tag })).Message);
    }

    [Fact]
    public async Task ADeadlineAlreadyPastFailsWithoutARequest()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        string tag = Guid.NewGuid().ToString("N");

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.EchoAsync(new EchoRequest { Tag = tag }, deadline: DateTime.UtcNow.AddSeconds(-1)));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        using AsyncUnaryCall<EchoReply> observe = client.ObserveAsync(new EchoRequest { Message = tag }, deadline: DateTime.UtcNow.AddMilliseconds(500));
        Assert.Equal(StatusCode.DeadlineExceeded, (await Assert.ThrowsAsync<RpcException>(async () => await observe)).StatusCode);
    }

    [Fact]
    public async Task CancellingAStreamingCallResetsTheStreamAndTheServerObservesIt()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        string tag = Guid.NewGuid().ToString("N");
        using var cancellation = new CancellationTokenSource();

        using AsyncServerStreamingCall<EchoReply> call = client.Countdown(new EchoRequest { Message = "c", Count = 100_000, DelayMs = 10, Tag = tag }, cancellationToken: cancellation.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        await cancellation.CancelAsync();

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Equal("cancelled", (await client.ObserveAsync(new EchoRequest { Message = tag }, deadline: DateTime.UtcNow.AddSeconds(20))).Message);
    }

    [Fact]
    public async Task DisposingACallInProgressCancelsItOnTheServer()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        string tag = Guid.NewGuid().ToString("N");

        AsyncServerStreamingCall<EchoReply> call = client.Countdown(new EchoRequest { Message = "d", Count = 100_000, DelayMs = 10, Tag = tag });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        call.Dispose();

        Assert.Equal(StatusCode.Cancelled, call.GetStatus().StatusCode);
        Assert.Equal("cancelled", (await client.ObserveAsync(new EchoRequest { Message = tag }, deadline: DateTime.UtcNow.AddSeconds(20))).Message);
    }

    [Fact]
    public async Task ACompletedCallIsObservedAsCompleted()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        string tag = Guid.NewGuid().ToString("N");

        await client.EchoAsync(new EchoRequest { Message = "done", Tag = tag }, deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal("completed", (await client.ObserveAsync(new EchoRequest { Message = tag }, deadline: DateTime.UtcNow.AddSeconds(20))).Message);
    }
}
