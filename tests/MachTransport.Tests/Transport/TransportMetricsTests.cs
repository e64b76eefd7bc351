// The "MachTransport" meter: the server's comes from the host's IMeterFactory (so MetricCollector can scope to it),
// and counts what Kestrel cannot see: protocol errors, rejected peers, out-of-line traffic, credit stalls.
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using MachTransport.Mach.Rights;
using MachTransport.Server;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

[Trait("Category", "Telemetry")]
public sealed class TransportMetricsTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    [Fact]
    public async Task GarbageOnTheServicePortAndRefusedPeersAreCountedOnTheServer()
    {
        using var errors = new MetricCollector<long>(MeterFactory, MachTransportMetrics.MeterName, "machtransport.protocol.errors");
        using var rejected = new MetricCollector<long>(MeterFactory, MachTransportMetrics.MeterName, "machtransport.peers.rejected");
        string service = TestEnvironment.UniqueServiceName("metrics-refuse");
        await using IConnectionListener listener = await BindAsync(service, o => o.PeerPolicy = _ => false);

        using (MachSendRight port = MachBootstrap.LookUp(MachKernel.Current, service))
        {
            Assert.Equal(Mach.Abi.MachMsgReturn.Success, Send(port.Name, Mach.Abi.MachMsgTypeName.CopySend, 0x1234));
        }

        await Assert.ThrowsAsync<MachConnectionRejectedException>(() => MachClientConnector.ConnectAsync(service, new MachClientOptions(), CancellationToken.None).WaitAsync(Timeout));

        await errors.WaitForMeasurementsAsync(1, Timeout);
        await rejected.WaitForMeasurementsAsync(1, Timeout);
        AssertServerSum(errors, 1);
        AssertServerSum(rejected, 1);
    }

    [Fact]
    public async Task OutOfLinePayloadsAndCreditStallsAreCounted()
    {
        using var oolMessages = new MetricCollector<long>(MeterFactory, MachTransportMetrics.MeterName, "machtransport.messages.ool");
        using var oolBytes = new MetricCollector<long>(MeterFactory, MachTransportMetrics.MeterName, "machtransport.bytes.ool");
        using var stalls = new MetricCollector<long>(MeterFactory, MachTransportMetrics.MeterName, "machtransport.credit.stalls");
        // Clients share one process-wide meter (no scope); other tests' clients may add to it, never subtract.
        using var clientOolBytes = new MetricCollector<long>((object?)null, MachTransportMetrics.MeterName, "machtransport.bytes.ool");
        string service = TestEnvironment.UniqueServiceName("metrics-ool");
        await using IConnectionListener listener = await BindAsync(service);
        var clientOptions = new MachClientOptions();

        await using MachChannel client = await MachClientConnector.ConnectAsync(service, clientOptions, CancellationToken.None).WaitAsync(Timeout);
        await using ConnectionContext server = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;

        // 100 KiB in one flush: one DATA message, out of line (above the 16 KiB threshold).
        const int upload = 100 * 1024;
        await client.Output.WriteAsync(new byte[upload]);
        Assert.Equal(upload, await ReadAsync(server.Transport.Input, upload));
        await oolBytes.WaitForMeasurementsAsync(1, Timeout);
        AssertServerSum(oolBytes, upload);
        AssertServerSum(oolMessages, 1);
        Assert.All(oolMessages.GetMeasurementSnapshot(), m => Assert.Equal("received", m.Tags["machtransport.direction"]));
        Assert.True(Sum(clientOolBytes, "client") >= upload);

        // Twice the client's read window while the client does not read: the server must wait for credit.
        long download = 2 * clientOptions.Limits.MaxReadBufferSize!.Value;
        ValueTask<FlushResult> sending = server.Transport.Output.WriteAsync(new byte[download]);
        await stalls.WaitForMeasurementsAsync(1, Timeout);
        Assert.Equal(download, await ReadAsync(client.Input, download));
        await sending.AsTask().WaitAsync(Timeout);
        Assert.True(Sum(stalls, "server") >= 1);
        Assert.Contains(oolMessages.GetMeasurementSnapshot(), m => (string?)m.Tags["machtransport.direction"] == "sent");
    }

    private async Task<IConnectionListener> BindAsync(string service, Action<MachTransportOptions>? configure = null)
    {
        var options = new MachTransportOptions();
        configure?.Invoke(options);
        var factory = new MachTransportFactory(Options.Create(options), NullLoggerFactory.Instance, MeterFactory);
        return await factory.BindAsync(new MachEndPoint(service));
    }

    private static async Task<long> ReadAsync(PipeReader input, long count)
    {
        long read = 0;
        while (read < count)
        {
            ReadResult result = await input.ReadAsync().AsTask().WaitAsync(Timeout);
            read += result.Buffer.Length;
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        return read;
    }

    private static void AssertServerSum(MetricCollector<long> collector, long expected)
    {
        Assert.All(collector.GetMeasurementSnapshot(), m => Assert.Equal("server", m.Tags["machtransport.side"]));
        Assert.Equal(expected, Sum(collector, "server"));
    }

    private static long Sum(MetricCollector<long> collector, string side)
        => collector.GetMeasurementSnapshot().Where(m => (string?)m.Tags["machtransport.side"] == side).Sum(m => m.Value);
}
