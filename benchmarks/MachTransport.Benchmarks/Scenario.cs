// What the harness measures: a scenario is one workload; each of its cases runs that workload over one transport.
namespace MachTransport.Benchmarks;

internal enum ScenarioKind
{
    /// <summary>Each operation is timed alone: percentiles and mean in µs (lower is better).</summary>
    Latency,

    /// <summary>Units per second over a batch: bytes (request + response) or messages (higher is better).</summary>
    Throughput,
}

/// <summary>
/// Runs <paramref name="count"/> operations and returns the units done (operations, bytes or messages); latency
/// scenarios add each operation's duration, in Stopwatch ticks, to <paramref name="latencies"/>.
/// </summary>
internal delegate Task<long> BatchRunner(int count, List<long> latencies);

/// <param name="Transport">mach, uds, tcp or floor.</param>
/// <param name="ServerAllocated">Reads the serving process's allocated bytes (read around each batch), null for none.</param>
/// <param name="ServerPid">The serving process, whose CPU time is read around each batch with the client's (0: the client's alone).</param>
internal sealed record Case(string Transport, BatchRunner Run, Func<Task<long>>? ServerAllocated = null, int ServerPid = 0);

/// <param name="BaseName">The workload (grpc-unary, grpc-1mib ...); latency statistics go after it in ratio lines (grpc-unary-p99).</param>
/// <param name="Suffix">The variant ("-tuned"), or empty for the defaults.</param>
/// <param name="Unit">"µs" for latency, "MB/s" (bytes) or "msg/s" (messages) for throughput.</param>
/// <param name="BatchSize">Operations per batch: each round runs one batch per case.</param>
internal sealed record Scenario(string BaseName, string Suffix, ScenarioKind Kind, string Unit, int BatchSize, IReadOnlyList<Case> Cases)
{
    public string Name => BaseName + Suffix;
}
