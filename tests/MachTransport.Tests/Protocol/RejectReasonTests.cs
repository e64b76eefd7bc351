using MachTransport.Channel;
using Xunit;

namespace MachTransport.Tests.Protocol;

/// <summary>The public reject reasons are the REJECT message's codes, name for name.</summary>
[Trait("Category", "Protocol")]
public sealed class RejectReasonTests
{
    [Fact]
    public void EveryPublicReasonHasTheWireCodeOfItsName()
    {
        foreach (MachRejectReason reason in Enum.GetValues<MachRejectReason>().Where(r => r != MachRejectReason.Unspecified))
        {
            Assert.True(Enum.TryParse(reason.ToString(), out MachCloseReason wire), $"{reason} is no REJECT reason");
            Assert.Equal((uint)wire, (uint)reason);
        }
    }
}
