using MachTransport.Channel;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>A client factory reads its options once: its connections share one set of settings (issue 18 item 6).</summary>
[Trait("Category", "CrossProcess")]
public sealed class ConnectionFactorySettingsTests
{
    [Fact]
    public async Task ConnectionsOfOneFactoryShareTheSettingsBuiltFromItsOptionsWhenItWasMade()
    {
        await using TransportHost host = await TransportHost.StartAsync("factory-settings");
        var options = new MachClientOptions();
        options.Limits.MaxReadBufferSize = 64 * 1024;
        var factory = new MachConnectionFactory(options);
        var endPoint = new MachEndPoint(host.Service);
        options.Limits.MaxReadBufferSize = 4096; // after the factory was made: does not apply

        await using var first = (MachChannelStream)await factory.ConnectStreamAsync(endPoint).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await using var second = (MachChannelStream)await factory.ConnectStreamAsync(endPoint).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Same(first.Channel.Settings, second.Channel.Settings);
        Assert.Equal(64 * 1024, first.Channel.Settings.MaxReadBufferSize);
    }
}
