using System.Buffers;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using MachTransport.Server;
using MachTransport.Tests.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>After a listener stops, a client learns it at once, however launchd treats the service's port.</summary>
[Trait("Category", "CrossProcess")]
public sealed class ListenerStopTests
{
    [Fact]
    public async Task AStoppedListenerRejectsAtOnceAndAListenerBoundAgainServes()
    {
        var endPoint = new MachEndPoint(TestEnvironment.UniqueServiceName("stopped"));
        var options = new MachTransportOptions();
        var client = new MachClientOptions { ConnectTimeout = TimeSpan.FromSeconds(60) };
        MachConnectionListener listener = MachConnectionListener.Bind(endPoint, options, NullLogger.Instance, TestMetrics.Server, MemoryPool<byte>.Shared);

        await listener.UnbindAsync();
        await AssertShuttingDownAsync(endPoint, client);
        await listener.DisposeAsync();
        await AssertShuttingDownAsync(endPoint, client);

        await using MachConnectionListener again = MachConnectionListener.Bind(endPoint, options, NullLogger.Instance, TestMetrics.Server, MemoryPool<byte>.Shared);
        Task<ConnectionContext?> accepting = again.AcceptAsync().AsTask();
        MachChannel channel = await MachClientConnector.ConnectAsync(endPoint.ServiceName, client, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await using (channel)
        {
            ConnectionContext? accepted = await accepting.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotNull(accepted);
            await accepted.DisposeAsync();
        }
    }

    [Fact]
    public async Task AServerThatDiesBeforeAnsweringFailsTheConnectAtOnce()
    {
        string name = TestEnvironment.UniqueServiceName("dies");
        MachReceiveRight service = MachBootstrap.CheckIn(MachTestMessages.Kernel, name);
        var client = new MachClientOptions { ConnectTimeout = TimeSpan.FromSeconds(60) };
        Task<MachChannel> connecting = MachClientConnector.ConnectAsync(name, client, CancellationToken.None);

        // The CONNECT arrived, then the server's port dies without an answer.
        ReceivedMessage connect = await Task.Run(() => MachTestMessages.Receive(service.Name));
        Assert.Equal(MachProtocol.Connect, connect.Header.Id);
        Assert.Equal(KernReturn.Success, MachTestMessages.Kernel.Deallocate(connect.Descriptors[0].Name));
        service.Dispose();

        IOException error = await Assert.ThrowsAsync<IOException>(() => connecting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("went away before answering", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectsWaitingTogetherOnAServerThatDiesBeforeAnsweringAllFailAtOnce()
    {
        // Two connects to one service hold the same name for its port, and the loop keeps one dead-name watch a name:
        // before, only the first connect had it, and the second waited its whole connect timeout.
        string name = TestEnvironment.UniqueServiceName("dies-both");
        MachReceiveRight service = MachBootstrap.CheckIn(MachTestMessages.Kernel, name);
        var client = new MachClientOptions { ConnectTimeout = TimeSpan.FromSeconds(60) };
        Task<MachChannel>[] connecting = [.. Enumerable.Range(0, 2).Select(_ => MachClientConnector.ConnectAsync(name, client, CancellationToken.None))];

        // Both CONNECTs arrived (so both connects are waiting for their answer), then the server's port dies.
        for (int i = 0; i < connecting.Length; i++)
        {
            ReceivedMessage connect = await Task.Run(() => MachTestMessages.Receive(service.Name));
            Assert.Equal(MachProtocol.Connect, connect.Header.Id);
            Assert.Equal(KernReturn.Success, MachTestMessages.Kernel.Deallocate(connect.Descriptors[0].Name));
        }

        service.Dispose();
        foreach (Task<MachChannel> connect in connecting)
        {
            IOException error = await Assert.ThrowsAsync<IOException>(() => connect.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("went away before answering", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConnectsWaitingTogetherWhenTheirReceiveLoopStopsAllFailAtOnce()
    {
        // The loop fails the handlers of the names it watches when it stops unexpectedly; before, only the first of two
        // connects to one service had the watch, and the second waited its whole connect timeout.
        string name = TestEnvironment.UniqueServiceName("loop-stops");
        using MachReceiveRight service = MachBootstrap.CheckIn(MachTestMessages.Kernel, name);
        var kernel = new HookedKernel(MachKernel.Current);
        await using var loop = new MachReceiveLoop(kernel, "test client", NullLogger.Instance);
        using MachReceiveRight wake = MachReceiveRight.Allocate(kernel);
        loop.Register(wake, new Discard(kernel));
        ChannelSettings settings = MachClientConnector.Settings(new MachClientOptions());
        Task<MachChannel>[] connecting = [.. Enumerable.Range(0, 2).Select(_ => MachConnector.ConnectAsync(loop, name, settings, TimeSpan.FromSeconds(60), CancellationToken.None))];
        for (int i = 0; i < connecting.Length; i++)
        {
            ReceivedMessage connect = await Task.Run(() => MachTestMessages.Receive(service.Name));
            Assert.Equal(MachProtocol.Connect, connect.Header.Id);
            Assert.Equal(KernReturn.Success, MachTestMessages.Kernel.Deallocate(connect.Descriptors[0].Name));
        }

        // The loop's next receive fails; a message on a port of its own makes it receive again.
        kernel.FailNextReceive(MachMsgReturn.ReceiveInvalidData);
        using (MachSendRight send = wake.MakeSend())
        {
            Assert.Equal(MachMsgReturn.Success, MachTestMessages.Send(send.Name, MachMsgTypeName.CopySend, 0x1234, timeoutMilliseconds: 10_000));
        }

        foreach (Task<MachChannel> connect in connecting)
        {
            IOException error = await Assert.ThrowsAsync<IOException>(() => connect.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("could not be handled", error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Well within the client's 60 s connect timeout: a REJECT, not a wait for an answer that never comes.</summary>
    private static async Task AssertShuttingDownAsync(MachEndPoint endPoint, MachClientOptions client)
    {
        MachConnectionRejectedException rejected = await Assert.ThrowsAsync<MachConnectionRejectedException>(
            () => MachClientConnector.ConnectAsync(endPoint.ServiceName, client, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(MachRejectReason.ShuttingDown, rejected.Reason);
        Assert.Contains("shutting down", rejected.Message, StringComparison.Ordinal);
    }

    private sealed class Discard(IMachKernel kernel) : IMachPortHandler
    {
        public void OnMessage(in MachMessageReader message) => MachMessageDisposal.Destroy(kernel, message);

        public void OnDeadName(uint deadName) => kernel.Deallocate(deadName);

        public void OnFailed(Exception error)
        {
        }
    }
}
