// Everything measured for one case over all rounds, and the statistics the report reads from it.
namespace MachTransport.Benchmarks;

internal sealed class CaseResult(Scenario scenario, Case @case)
{
    public Scenario Scenario { get; } = scenario;

    public string Transport { get; } = @case.Transport;

    /// <summary>Per-operation durations (latency scenarios), µs.</summary>
    public List<double> LatenciesMicroseconds { get; } = [];

    /// <summary>Units per second of each round's batch (throughput scenarios, MB for bytes).</summary>
    public List<double> RoundRates { get; } = [];

    public long Operations { get; set; }

    public long ClientAllocated { get; set; }

    public long ServerAllocated { get; set; }

    public bool ServerMeasured { get; set; }

    public MachCounters.Snapshot Mach { get; set; }

    /// <summary>CPU seconds (user + system) of the client and the serving process over the measured batches.</summary>
    public double CpuSeconds { get; set; }

    /// <summary>Thread-pool work items the client process completed over the measured batches: its thread hops.</summary>
    public long ClientWorkItems { get; set; }

    public double CpuMicrosecondsPerOperation => Operations == 0 ? double.NaN : CpuSeconds * 1e6 / Operations;

    /// <summary>Operations that took over a millisecond (latency scenarios): the tail in counts, not one percentile.</summary>
    public int OverMillisecond => LatenciesMicroseconds.Count(l => l > 1000);

    public double Percentile(double p)
    {
        if (LatenciesMicroseconds.Count == 0)
        {
            return double.NaN;
        }

        List<double> sorted = [.. LatenciesMicroseconds.Order()];
        double rank = p / 100 * (sorted.Count - 1);
        int low = (int)Math.Floor(rank);
        int high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }

    public double Mean => LatenciesMicroseconds.Count == 0 ? double.NaN : LatenciesMicroseconds.Average();

    /// <summary>The median of the per-round rates: one disturbed round on a shared machine does not move it.</summary>
    public double Rate
    {
        get
        {
            if (RoundRates.Count == 0)
            {
                return double.NaN;
            }

            List<double> sorted = [.. RoundRates.Order()];
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        }
    }

    public double ClientBytesPerOperation => Operations == 0 ? double.NaN : (double)ClientAllocated / Operations;

    public double ServerBytesPerOperation => Operations == 0 || !ServerMeasured ? double.NaN : (double)ServerAllocated / Operations;

    public double PerOperation(long count) => Operations == 0 ? double.NaN : (double)count / Operations;
}
