using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

/// <summary>Connect attempts that fail leave no right behind in the client, counted by the emulated name table.</summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)]
public sealed class ConnectLeakTests
{
    [LinuxFact]
    public async Task ConnectsRetriedAgainstAFullServiceQueueLeakNoReference()
    {
        // A service whose queue a hostile process keeps full: every CONNECT times out and comes back to the client
        // with the send right it made to its own port (mach-abi.md §5.5); the client retries until its timeout.
        string name = TestEnvironment.UniqueServiceName("full-queue");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        using MachSendRight filler = service.MakeSend();
        int queued = 0;
        while (Send(filler.Name, MachMsgTypeName.CopySend, 1, new byte[1024]) == MachMsgReturn.Success)
        {
            Assert.True(++queued < 100_000, "the queue never filled");
        }

        _ = MachReceiveLoop.Client; // its own ports exist before the count
        int names = LinuxKernel.Instance.NameCount;
        uint serviceRefs = Refs(service.Name, MachPortRight.Send);
        var options = new MachClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) };
        await Assert.ThrowsAnyAsync<Exception>(() => MachClientConnector.ConnectAsync(name, options, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(names, LinuxKernel.Instance.NameCount);
        Assert.Equal(serviceRefs, Refs(service.Name, MachPortRight.Send));
    }
}
