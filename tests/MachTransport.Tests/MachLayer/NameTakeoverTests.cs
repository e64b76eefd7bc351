using System.Buffers;
using System.Diagnostics;
using MachTransport.Mach;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using MachTransport.Server;
using MachTransport.Tests.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// Issue 16 item 9: a service name is files in the registry directory, which any process of the user can remove.
/// Removing the lock file must not let another server take a live name, and a server whose name is taken anyway
/// (its socket file removed too) must know it: an Error log and an unhealthy health check.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class NameTakeoverTests
{
    private const string Peer = "MachTransport.MachPeer";

    [LinuxFact]
    public async Task RemovingTheLockFileDoesNotLetAnotherServerTakeALiveName()
    {
        string name = TestEnvironment.UniqueServiceName("takeover");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        File.Delete(RegistryFile(name, ".lock"));

        await using (ChildProcess usurper = ChildProcess.Start(Peer, "hold", name))
        {
            await usurper.WaitForExitAsync(); // check-in failed: the process ends instead of holding the name
            Assert.NotEqual(0, usurper.ExitCode);
            Assert.Contains("already registered by another running process", await usurper.ReadErrorAsync(), StringComparison.Ordinal);
        }

        // A fresh client still reaches this server.
        await using ChildProcess client = ChildProcess.Start(Peer, "send-inline", name, "1");
        await client.ExpectLineAsync("Success");
        Assert.Equal(11, Receive(service.Name).Header.Id);
    }

    [LinuxFact]
    public async Task AServerWhoseNameIsTakenByForceLeavesTheNewOwnersSocketAlone()
    {
        string name = TestEnvironment.UniqueServiceName("forced-release");
        MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using ChildProcess usurper = await TakeOverAsync(name);

        // Releasing the name it lost removes nothing of the new owner's: look-ups still reach it.
        service.Dispose();
        await using ChildProcess client = ChildProcess.Start(Peer, "send-inline", name, "1");
        await client.ExpectLineAsync("Success");
    }

    [LinuxFact]
    public async Task AListenerWhoseNameIsTakenByForceLogsItAndFailsTheHealthCheck()
    {
        var endPoint = new MachEndPoint(TestEnvironment.UniqueServiceName("forced-listener"));
        var logger = new FakeLogger();
        MachConnectionListener listener = MachConnectionListener.Bind(endPoint, new MachTransportOptions(), logger, TestMetrics.Server, MemoryPool<byte>.Shared);
        await using (listener)
        {
            Assert.False(listener.NameLost.IsCompleted);
            await using ChildProcess usurper = await TakeOverAsync(endPoint.ServiceName);

            await listener.NameLost.WaitAsync(TimeSpan.FromSeconds(30));
            HealthCheckResult health = MachServiceNameWatch.CheckHealth();
            Assert.Equal(HealthStatus.Unhealthy, health.Status);
            Assert.Contains(endPoint.ServiceName, health.Description, StringComparison.Ordinal);
            FakeLogRecord lost = Assert.Single(logger.Collector.GetSnapshot(), record => record.Id.Name == "ServiceNameLost");
            Assert.Equal(LogLevel.Error, lost.Level);
        }

        Assert.DoesNotContain(endPoint.ServiceName, MachServiceNameWatch.CheckHealth().Description ?? string.Empty, StringComparison.Ordinal);
    }

    [LinuxFact]
    public async Task AnAppOnTheTransportSeesATakenNameInItsHealthChecks()
    {
        string name = TestEnvironment.UniqueServiceName("forced-app");
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(name));
        await using WebApplication app = builder.Build();
        await app.StartAsync();
        HealthCheckService health = app.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries[MachServiceNameWatch.HealthCheckName].Status);

        await using ChildProcess usurper = await TakeOverAsync(name);
        var waited = Stopwatch.StartNew();
        HealthReport report;
        while ((report = await health.CheckHealthAsync()).Status == HealthStatus.Healthy && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100); // the transport checks its names every second; nothing to await from outside
        }

        Assert.Equal(HealthStatus.Unhealthy, report.Entries[MachServiceNameWatch.HealthCheckName].Status);
        Assert.Contains(name, report.Entries[MachServiceNameWatch.HealthCheckName].Description, StringComparison.Ordinal);
        await app.StopAsync();
    }

    /// <summary>Removes both files of <paramref name="name"/> and has a child check it in: a takeover no check can refuse.</summary>
    private static async Task<ChildProcess> TakeOverAsync(string name)
    {
        File.Delete(RegistryFile(name, ".lock"));
        File.Delete(RegistryFile(name, ".sock"));
        ChildProcess usurper = ChildProcess.Start(Peer, "hold", name);
        await usurper.ExpectLineAsync("READY");
        return usurper;
    }

    private static string RegistryFile(string name, string extension)
    {
        string directory = LinuxBootstrap.RegistryDirectory;
        return Path.Combine(directory, LinuxBootstrap.FileNameFor(directory, name) + extension);
    }
}
