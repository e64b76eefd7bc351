using System.Buffers;
using System.Diagnostics.Metrics;
using MachTransport.Channel;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using Microsoft.Extensions.Logging.Testing;
using Xunit;

namespace MachTransport.Tests.Protocol;

/// <summary>
/// A send that keeps finding the system short of resources (MACH_SEND_NO_BUFFER: on Linux, ETOOMANYREFS while this
/// user's descriptors in flight are at their limit) is retried for a bounded time, then fails, naming the budget.
/// </summary>
[Trait("Category", "Protocol")]
public sealed class ResourceShortageTests
{
    [Fact]
    public async Task ASendShortOfResourcesGivesUpAfterABoundedRetry()
    {
        IMachKernel kernel = MachKernel.Current;
        using MachReceiveRight port = MachReceiveRight.Allocate(kernel);
        using var sender = new MachSender(kernel, port.MakeSend(), MachConnectionLimits.DefaultInlineThreshold);
        int attempts = 0;

        MachMsgReturn result = await sender.SendWhenRoomAsync((_, _) =>
        {
            attempts++;
            return MachMsgReturn.SendNoBuffer;
        }, 0, Timeout.InfiniteTimeSpan).AsTask().WaitAsync(TimeSpan.FromSeconds(60)); // no overall limit: the shortage bound ends it

        Assert.Equal(MachMsgReturn.SendNoBuffer, result);
        Assert.True(attempts > 1, $"{attempts} attempts");
        Assert.Contains(kernel.ResourceShortageReason, sender.Explain(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADATASendShortOfResourcesPastTheBoundFailsTheChannelWithTheShortageNotAsAStall()
    {
        var kernel = new HookedKernel(MachKernel.Current);
        var logger = new FakeLogger();
        using var meter = new Meter(MachTransportMetrics.MeterName);
        ChannelSettings settings = ChannelSettings.From(new MachConnectionLimits(), logger, new MachTransportMetrics(meter, "server"), MemoryPool<byte>.Shared);
        await using var loop = new MachReceiveLoop(kernel, "shortage", logger);
        using MachReceiveRight peer = MachReceiveRight.Allocate(kernel);
        var channel = new MachChannel(loop, MachReceiveRight.Allocate(kernel), peer.MakeSend(), new MachPeerIdentity(Environment.ProcessId, 0, 0, 0),
            MachWindow.From(settings), settings, "server");
        await using (channel)
        {
            Assert.True(channel.Start(null));
            unsafe { kernel.Hook = HookedKernel.DataShortOfBuffers; }
            await channel.Output.WriteAsync(new byte[10]);

            // Retried for ResourceShortage.Retry, then the channel fails.
            await Task.Delay(Timeout.Infinite, channel.Closed).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(60));
        }

        // The peer's queue was never full: it is told the send failed here, not that it stalled.
        ReceivedMessage abort = MachTestMessages.Receive(peer.Name);
        Assert.Equal(MachProtocol.Abort, abort.Header.Id);
        Assert.Equal((uint)MachCloseReason.LocalAbort, RawPeer.Word(abort.Body, 0));
        IReadOnlyList<FakeLogRecord> log = logger.Collector.GetSnapshot();
        Assert.DoesNotContain(log, r => r.Id.Name == "PeerStalled");
        Assert.Contains(log, r => r.Id.Name == "SendFailed" && r.Message.Contains(kernel.ResourceShortageReason, StringComparison.Ordinal));
    }
}
