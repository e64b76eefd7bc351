using MachTransport.Channel;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
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
}
