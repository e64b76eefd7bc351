using System.Buffers;
// An in-process listener for the protocol tests: its instruments on a meter of its own (so a MetricCollector sees
// only this test) and its log kept (so a test can read why a connection was closed).
using System.Diagnostics.Metrics;
using MachTransport.Channel;
using MachTransport.Mach;
using MachTransport.Server;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using MachTransport.Infrastructure;

namespace MachTransport.Tests.Protocol;

/// <summary>An in-process listener whose instruments are on a meter of its own and whose log is kept.</summary>
internal sealed class ProtocolServer : IAsyncDisposable
{
    /// <summary>Bound on every wait of these tests: generous for a loaded machine, never reached when things work.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly List<MachChannel> _accepted = [];
    private readonly MetricCollector<long> _protocolErrors;

    private ProtocolServer(string service, MachConnectionListener listener, Meter meter, FakeLogger logger)
    {
        Service = service;
        Listener = listener;
        Meter = meter;
        Log = logger;
        _protocolErrors = new MetricCollector<long>(meter, "machtransport.protocol.errors");
    }

    public string Service { get; }

    public MachConnectionListener Listener { get; }

    /// <summary>The server side's "MachTransport" instruments, seen by nobody but this test.</summary>
    public Meter Meter { get; }

    public FakeLogger Log { get; }

    public static ProtocolServer Bind(MachTransportOptions? options = null, IMachKernel? kernel = null)
    {
        string service = TestEnvironment.UniqueServiceName("protocol");
        var meter = new Meter(MachTransportMetrics.MeterName);
        var logger = new FakeLogger();
        var listener = MachConnectionListener.Bind(new MachEndPoint(service), options ?? new MachTransportOptions(), logger, new MachTransportMetrics(meter, "server"), MemoryPool<byte>.Shared, kernel);
        return new ProtocolServer(service, listener, meter, logger);
    }

    /// <summary>The server's channel of the next connection.</summary>
    public async Task<MachChannel> AcceptAsync()
    {
        var context = (MachConnectionContext?)await Listener.AcceptAsync().AsTask().WaitAsync(Bound);
        var channel = (MachChannel)context!.Transport;
        _accepted.Add(channel);
        return channel;
    }

    /// <summary>The reasons of the protocol errors logged so far.</summary>
    public IEnumerable<string> ProtocolErrors
        => Log.Collector.GetSnapshot().Where(r => r.Id.Name == "ProtocolError").Select(r => r.Message);

    /// <summary>What the server's <c>machtransport.protocol.errors</c> counted.</summary>
    public long ProtocolErrorCount => _protocolErrors.GetMeasurementSnapshot().Sum(m => m.Value);

    public async ValueTask DisposeAsync()
    {
        foreach (MachChannel channel in _accepted)
        {
            await channel.DisposeAsync();
        }

        await Listener.DisposeAsync();
        _protocolErrors.Dispose();
        Meter.Dispose();
    }
}
