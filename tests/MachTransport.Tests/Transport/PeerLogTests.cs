// What a garbage-sending peer can make an ASP.NET Core app on Mach log: nothing at the default level, and a bounded
// number of lines a second at Debug. The app runs in this process (Kestrel over Mach works in-process too).
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MachTransport.Channel;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

[Trait("Category", "Hostile")]
public sealed class PeerLogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DefaultLoggingShowsNoLineFromAGarbageSendingPeer()
    {
        var logs = new FakeLogCollector();
        string service = TestEnvironment.UniqueServiceName("log-default");
        await using WebApplication app = await StartAsync(service, logs, debug: false);
        using var errors = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MachTransportMetrics.MeterName, "machtransport.protocol.errors");

        using (MachSendRight port = MachBootstrap.LookUp(MachKernel.Current, service))
        {
            Assert.Equal(MachMsgReturn.Success, Send(port.Name, MachMsgTypeName.CopySend, 0x1234, timeoutMilliseconds: 10_000));
            Assert.Equal(MachMsgReturn.Success, Send(port.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, new byte[3], timeoutMilliseconds: 10_000));
        }

        await using (MachChannel victim = await Client.MachClientConnector.ConnectAsync(service, new MachClientOptions(), CancellationToken.None).WaitAsync(Timeout))
        {
            Assert.Equal(MachMsgReturn.Success, Send(victim.PeerPortName, MachMsgTypeName.CopySend, 0x4D54_0099, new byte[16], timeoutMilliseconds: 10_000));
            await errors.WaitForMeasurementsAsync(3, Timeout);
        }

        using HttpClient client = CreateClient(service);
        Assert.Equal("hello", await client.GetStringAsync("/hello").WaitAsync(Timeout));
        // The transport's only line at Information is its own "listening on" line.
        Assert.All(
            logs.GetSnapshot().Where(r => r.Category?.StartsWith("MachTransport", StringComparison.Ordinal) == true),
            r => Assert.Equal("ListenerBound", r.Id.Name));
    }

    [Fact]
    public async Task AtDebugTenThousandGarbageMessagesLogABoundedNumberOfLines()
    {
        const int Garbage = 10_000;
        var logs = new FakeLogCollector();
        string service = TestEnvironment.UniqueServiceName("log-flood");
        await using WebApplication app = await StartAsync(service, logs, debug: true);
        using var errors = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), MachTransportMetrics.MeterName, "machtransport.protocol.errors");
        using (HttpClient client = CreateClient(service))
        {
            Assert.Equal("hello", await client.GetStringAsync("/hello").WaitAsync(Timeout));
        }

        var watch = Stopwatch.StartNew();
        using (MachSendRight port = MachBootstrap.LookUp(MachKernel.Current, service))
        {
            for (int i = 0; i < Garbage; i++)
            {
                Assert.Equal(MachMsgReturn.Success, Send(port.Name, MachMsgTypeName.CopySend, 0x1234, timeoutMilliseconds: 10_000));
            }
        }

        await errors.WaitForMeasurementsAsync(Garbage, Timeout);
        watch.Stop();

        // Every window of one second the flood touched may hold the allowed lines plus one line counting the rest.
        long windows = (long)watch.Elapsed.TotalSeconds + 2;
        int lines = logs.GetSnapshot().Count(r => r.Category == "MachTransport.Server" && r.Id.Name is "MalformedServiceMessage" or "EventsSuppressed");
        Assert.InRange(lines, 1, windows * (LogRateLimiter.LinesPerSecond + 1));
    }

    private static async Task<WebApplication> StartAsync(string service, FakeLogCollector logs, bool debug)
    {
        // The defaults of an ASP.NET Core app (Console, at Information), plus a provider the test can read.
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        if (debug)
        {
            builder.Logging.AddFilter("MachTransport", LogLevel.Debug);
            builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Trace); // its lines about Mach connections too
        }

        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(service));
        WebApplication app = builder.Build();
        app.MapGet("/hello", () => "hello");
        await app.StartAsync().WaitAsync(Timeout);
        return app;
    }

    private static HttpClient CreateClient(string service) => new(MachHttpHandler.Create(service))
    {
        BaseAddress = new Uri("http://localhost"),
        DefaultRequestVersion = System.Net.HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
