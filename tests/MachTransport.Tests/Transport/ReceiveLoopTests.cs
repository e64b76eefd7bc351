using System.Collections.Concurrent;
using MachTransport.Channel;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

/// <summary>One receive loop serves many ports: what one port's sender does must not stop it for the others.</summary>
[Trait("Category", "Hostile")]
public sealed class ReceiveLoopTests
{
    [Fact]
    public async Task OversizedMessagesQueuedOnTwoMembersReachTheirOwnHandlersAndTheLoopGoesOn()
    {
        await using var loop = new MachReceiveLoop(Kernel, "test", NullLogger.Instance);
        using MachReceiveRight trigger = MachReceiveRight.Allocate(Kernel);
        using MachReceiveRight first = MachReceiveRight.Allocate(Kernel);
        using MachReceiveRight second = MachReceiveRight.Allocate(Kernel);
        var seen = new Recorder();
        loop.Register(first, seen);
        loop.Register(second, seen);
        // Sent from the loop's own thread, so both are queued before the loop receives again: the second receive on
        // the set may pick the other member's (larger) message.
        loop.Register(trigger, new Recorder(() =>
        {
            Assert.Equal(MachMsgReturn.Success, Send(first.Name, MachMsgTypeName.MakeSend, 1, new byte[80_000]));
            Assert.Equal(MachMsgReturn.Success, Send(second.Name, MachMsgTypeName.MakeSend, 2, new byte[120_000]));
        }));

        Assert.Equal(MachMsgReturn.Success, Send(trigger.Name, MachMsgTypeName.MakeSend, 9));

        // Each oversized message is destroyed unread and its port's owner hears of it (id 0: not a protocol message).
        var undeliverable = new HashSet<(uint, int)> { seen.Next(), seen.Next() };
        Assert.Equal([(first.Name, 0), (second.Name, 0)], undeliverable);
        Assert.Equal(MachMsgReturn.Success, Send(first.Name, MachMsgTypeName.MakeSend, 7));
        Assert.Equal((first.Name, 7), seen.Next());
    }

    [Fact]
    public async Task AHandlerThatThrowsCostsOnlyItsOwnPort()
    {
        await using var loop = new MachReceiveLoop(Kernel, "test", NullLogger.Instance);
        using MachReceiveRight faulty = MachReceiveRight.Allocate(Kernel);
        using MachReceiveRight healthy = MachReceiveRight.Allocate(Kernel);
        var thrower = new Recorder(() => throw new InvalidOperationException("handler bug"));
        var seen = new Recorder();
        loop.Register(faulty, thrower);
        loop.Register(healthy, seen);

        Assert.Equal(MachMsgReturn.Success, Send(faulty.Name, MachMsgTypeName.MakeSend, 1));
        Assert.Equal("handler bug", thrower.NextFailure().Message);
        Assert.Equal(MachMsgReturn.Success, Send(healthy.Name, MachMsgTypeName.MakeSend, 2));
        Assert.Equal((healthy.Name, 2), seen.Next());
    }

    /// <summary>Records (port, id) of each message routed to it, and each failure reported to it.</summary>
    [Fact]
    public async Task DisposingALoopWhoseThreadIsBusyHoldsNoThreadOfTheCaller()
    {
        var loop = new MachReceiveLoop(Kernel, "test", NullLogger.Instance);
        using MachReceiveRight busy = MachReceiveRight.Allocate(Kernel);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        loop.Register(busy, new Recorder(() =>
        {
            entered.Set();
            release.Wait();
        }));
        Assert.Equal(MachMsgReturn.Success, Send(busy.Name, MachMsgTypeName.MakeSend, 1));
        Assert.True(entered.Wait(TimeSpan.FromSeconds(10)), "the handler never ran");

        // Before, disposal joined the loop's thread for up to 5 s on the caller's thread (a pool thread inside the
        // listener's DisposeAsync): the call came back only then, completed.
        ValueTask disposing = loop.DisposeAsync();
        bool cameBackAtOnce = !disposing.IsCompleted;
        ValueTask again = loop.DisposeAsync();
        Assert.True(again.IsCompletedSuccessfully, "a second disposal waits for nothing");
        release.Set();
        await disposing.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(cameBackAtOnce, "disposal held the caller's thread while the loop's thread was busy");
    }

    private sealed class Recorder(Action? onMessage = null) : IMachPortHandler
    {
        private readonly BlockingCollection<(uint, int)> _messages = [];
        private readonly BlockingCollection<Exception> _failures = [];

        public void OnMessage(in MachMessageReader message)
        {
            MachMessageDisposal.Destroy(Kernel, message);
            _messages.Add((message.Header.LocalPort, message.Id));
            onMessage?.Invoke();
        }

        public void OnDeadName(uint deadName) => Kernel.Deallocate(deadName);

        public void OnFailed(Exception error) => _failures.Add(error);

        public (uint Port, int Id) Next()
        {
            Assert.True(_messages.TryTake(out (uint, int) next, TimeSpan.FromSeconds(10)), "no message reached the handler");
            return next;
        }

        public Exception NextFailure()
        {
            Assert.True(_failures.TryTake(out Exception? next, TimeSpan.FromSeconds(10)), "no failure was reported");
            return next;
        }
    }
}
