using System.Collections.Concurrent;
using MachTransport.Channel;
using MachTransport.Mach;
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
    public void A_handler_that_throws_costs_only_its_own_port()
    {
        using var loop = new MachReceiveLoop(Kernel, "test", NullLogger.Instance);
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
