using System.Diagnostics.Metrics;
using MachTransport.Infrastructure;

namespace MachTransport.Tests.Transport;

/// <summary>Server-side instruments for listeners a test binds by itself (outside a host's DI), on a meter of their own.</summary>
internal static class TestMetrics
{
    public static MachTransportMetrics Server { get; } = new(new Meter("MachTransport.Tests"), "server");
}
