using System.Diagnostics;
using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>Processes dying or stopping mid-request.</summary>
[Trait("Category", "Fault")]
public sealed class FaultTests
{
    [Fact]
    public async Task ServerKilledMidRequestFailsTheRequestWithinASecondAndARestartServesAgain()
    {
        string service = TestEnvironment.UniqueServiceName("kill-server");
        TransportHost host = await TransportHost.StartOnAsync(service);
        try
        {
            using HttpClient client = host.CreateClient();
            Task<string> pending = client.GetStringAsync("/wait?ms=60000");
            await host.WaitForStatsAsync(s => s["active"] >= 1);
            await host.KillAsync();
            var watch = Stopwatch.StartNew();
            await Assert.ThrowsAsync<HttpRequestException>(() => pending.WaitAsync(TimeSpan.FromSeconds(1)));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"the failure took {watch.Elapsed}");
            await host.DisposeAsync();

            host = await TransportHost.StartOnAsync(service);
            // Bounded generously: a new connection to a new process, on a machine that may be running every test at once.
            Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello").WaitAsync(TimeSpan.FromSeconds(45)));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task ClientKilledMidRequestFreesItsConnectionOnTheServer()
    {
        await using TransportHost host = await TransportHost.StartAsync("kill-client");
        long activeBefore = (await host.StatsAsync())["active"];
        int fdsBefore = host.CountOpenFds();

        await using (ChildProcess client = ChildProcess.Start("MachTransport.TestHost", "client", host.Service, "/hang"))
        {
            // The request is inside its handler: the server must notice the dead client, abort the request and free all.
            await host.WaitForStatsAsync(s => s["active"] == activeBefore + 1 && s["waiting"] == 1, TimeSpan.FromSeconds(30));
            await client.KillAsync();
        }

        // Bounded generously: on a loaded machine the host's dead-name notification and Kestrel's teardown queue behind other work.
        await host.WaitForStatsAsync(s => s["active"] == activeBefore && s["waiting"] == 0, TimeSpan.FromSeconds(45));
        await Eventually.HoldsAsync(() => host.CountOpenFds() <= fdsBefore, TimeSpan.FromSeconds(30), () => $"the server holds {host.CountOpenFds() - fdsBefore} more descriptors than before");
    }

    [Fact]
    public async Task GracefulShutdownLetsTheInFlightRequestFinishAndRefusesNewConnections()
    {
        await using TransportHost host = await TransportHost.StartAsync("graceful");
        using HttpClient client = host.CreateClient();
        Task<string> inFlight = client.GetStringAsync("/wait?ms=1500");
        await host.WaitForStatsAsync(s => s["waiting"] == 1); // the request reached the handler, not just the connection
        Task stopping = host.StopAsync();
        Assert.Equal("done", await inFlight.WaitAsync(TimeSpan.FromSeconds(15)));
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        // The host has exited (StopAsync waited for it): its name went with it, so the look-up fails. While a process
        // lives, a stopped listener answers REJECT "shutting down" instead (ListenerStopTests).
        using HttpClient late = host.CreateClient();
        HttpRequestException refused = await Assert.ThrowsAsync<HttpRequestException>(() => late.GetStringAsync("/hello").WaitAsync(TimeSpan.FromSeconds(10)));
        MachBootstrapException unknown = Assert.IsType<MachBootstrapException>(refused.InnerException);
        Assert.Equal((int)BootstrapStatus.UnknownService, unknown.Status);
        Assert.Equal(host.Service, unknown.ServiceName);
    }
}
