// Kestrel's own connection metrics over the Mach transport: listening to Kestrel's meter must not break accepting,
// and Kestrel's tags must describe the Mach endpoint.
using Xunit;

namespace MachTransport.Tests.Transport;

[Trait("Category", "CrossProcess")]
public sealed class KestrelMetricsTests
{
    [Fact]
    public async Task KestrelRecordsMachConnectionsWhileItsMeterIsListenedTo()
    {
        // The test host listens to Kestrel's meter from its start, as dotnet-counters or OpenTelemetry would.
        await using TransportHost host = await TransportHost.StartAsync("kestrel-metrics");
        using (HttpClient client = host.CreateClient())
        {
            Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello").WaitAsync(TimeSpan.FromSeconds(15)));
            await host.WaitForStatsAsync(s => s["active"] == 1 && s["total"] == 1);
        }

        await host.WaitForStatsAsync(s => s["active"] == 0 && s["closed"] == 1);

        using var tcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.TcpPort}") };
        string[] recorded = (await tcp.GetStringAsync("/kestrel-tags")).Split('\n');
        string address = $"server.address=mach:{host.Service}";
        Assert.Contains(recorded, r => r.StartsWith("kestrel.active_connections ", StringComparison.Ordinal) && r.Contains(address, StringComparison.Ordinal));
        string duration = Assert.Single(recorded, r => r.StartsWith("kestrel.connection.duration ", StringComparison.Ordinal));
        Assert.Contains(address, duration, StringComparison.Ordinal);
        Assert.Contains("network.transport=Unspecified", duration, StringComparison.Ordinal);
        Assert.Contains("network.protocol.version=2", duration, StringComparison.Ordinal);
    }
}
