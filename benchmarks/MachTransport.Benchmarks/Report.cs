// The output of a run: a markdown table per case, the idle-connection memory, one line per ratio
// ("ratio <scenario> mach/<other> <number>"; below 1 for times and above 1 for rates mean Mach is better), and JSON.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MachTransport.Benchmarks;

internal static class Report
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Table(IReadOnlyList<CaseResult> results)
    {
        var table = new StringBuilder();
        table.AppendLine("| scenario | transport | p50 µs | p99 µs | mean µs | rate | client B/op | server B/op | Mach DATA msgs/op (sent/recv) | OOL/op | credit stalls/op |")
            .AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (CaseResult r in results)
        {
            bool latency = r.Scenario.Kind == ScenarioKind.Latency;
            bool mach = r.Transport == "mach";
            table.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario.Name} | {r.Transport} | {(latency ? F(r.Percentile(50)) : "")} | {(latency ? F(r.Percentile(99)) : "")} | {(latency ? F(r.Mean) : "")} | {(latency ? "" : $"{F(r.Rate)} {r.Scenario.Unit}")} | {F(r.ClientBytesPerOperation)} | {F(r.ServerBytesPerOperation)} | {(mach ? $"{F(r.PerOperation(r.Mach.Sent))} / {F(r.PerOperation(r.Mach.Received))}" : "")} | {(mach ? F(r.PerOperation(r.Mach.OutOfLine)) : "")} | {(mach ? F(r.PerOperation(r.Mach.Stalls)) : "")} |");
        }

        return table.ToString();
    }

    /// <summary>CPU per operation (client and server processes) and the client's thread-pool work items per operation for every case, and the calls over 1 ms of latency cases.</summary>
    public static string CpuTable(IReadOnlyList<CaseResult> results)
    {
        var table = new StringBuilder();
        table.AppendLine("| scenario | transport | CPU µs/op (client + server) | client pool work items/op | ops over 1 ms |")
            .AppendLine("| --- | --- | ---: | ---: | ---: |");
        foreach (CaseResult r in results)
        {
            string over = r.Scenario.Kind == ScenarioKind.Latency ? r.OverMillisecond.ToString(CultureInfo.InvariantCulture) : "";
            table.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario.Name} | {r.Transport} | {F(r.CpuMicrosecondsPerOperation)} | {F(r.PerOperation(r.ClientWorkItems))} | {over} |");
        }

        return table.ToString();
    }

    public static string IdleTable(IReadOnlyList<IdleMemory.Result> idle)
    {
        var table = new StringBuilder();
        table.AppendLine("| idle connections (server) | connections | managed heap B/conn | resident B/conn |")
            .AppendLine("| --- | ---: | ---: | ---: |");
        foreach (IdleMemory.Result r in idle)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| {r.Transport} | {r.Connections} | {F(r.ManagedBytes)} | {F(r.ResidentBytes)} |");
        }

        return table.ToString();
    }

    public static List<(string Scenario, string Other, double Ratio)> Ratios(IReadOnlyList<CaseResult> results)
    {
        var ratios = new List<(string, string, double)>();
        foreach (IGrouping<Scenario, CaseResult> scenario in results.GroupBy(r => r.Scenario))
        {
            CaseResult? mach = scenario.FirstOrDefault(r => r.Transport == "mach");
            if (mach is null)
            {
                continue;
            }

            Scenario s = scenario.Key;
            foreach (CaseResult other in scenario.Where(r => r.Transport != "mach"))
            {
                if (s.Kind == ScenarioKind.Throughput)
                {
                    ratios.Add((s.Name, other.Transport, mach.Rate / other.Rate));
                    continue;
                }

                // The round trip of the raw channel is its median; gRPC calls get all three statistics.
                bool roundTrip = s.BaseName == "channel-rtt";
                ratios.Add((roundTrip ? s.Name : $"{s.BaseName}-p50{s.Suffix}", other.Transport, mach.Percentile(50) / other.Percentile(50)));
                ratios.Add(($"{s.BaseName}-p99{s.Suffix}", other.Transport, mach.Percentile(99) / other.Percentile(99)));
                ratios.Add(($"{s.BaseName}-mean{s.Suffix}", other.Transport, mach.Mean / other.Mean));
                if (s.BaseName == "grpc-unary-sustained")
                {
                    // A count, not a percentile: whether slow calls are rarer or just slower.
                    ratios.Add(($"{s.BaseName}-over1ms{s.Suffix}", other.Transport, (double)mach.OverMillisecond / other.OverMillisecond));
                    // CPU per unary call from the scenario with enough calls to read 10 ms ticks (tens of thousands).
                    ratios.Add(($"grpc-unary-cpu{s.Suffix}", other.Transport, mach.CpuMicrosecondsPerOperation / other.CpuMicrosecondsPerOperation));
                }
            }
        }

        return ratios;
    }

    public static string RatioLines(IEnumerable<(string Scenario, string Other, double Ratio)> ratios)
        => string.Concat(ratios.Select(r => string.Create(CultureInfo.InvariantCulture, $"ratio {r.Scenario} mach/{r.Other} {r.Ratio:0.###}\n")));

    public static async Task WriteJsonAsync(string path, Settings settings, IReadOnlyList<CaseResult> results, IReadOnlyList<IdleMemory.Result> idle)
    {
        var document = new
        {
            date = DateTimeOffset.UtcNow,
            mode = settings.Quick ? "quick" : "full",
            machine = new { processors = Environment.ProcessorCount, os = Environment.OSVersion.VersionString, runtime = Environment.Version.ToString() },
            rounds = settings.Rounds,
            cases = results.Select(r => new
            {
                scenario = r.Scenario.Name,
                transport = r.Transport,
                unit = r.Scenario.Unit,
                batch = r.Scenario.BatchSize,
                p50 = Finite(r.Percentile(50)),
                p90 = Finite(r.Percentile(90)),
                p99 = Finite(r.Percentile(99)),
                mean = Finite(r.Mean),
                rate = Finite(r.Rate),
                roundRates = r.RoundRates,
                cpuMicrosecondsPerOp = Finite(r.CpuMicrosecondsPerOperation),
                clientWorkItemsPerOp = Finite(r.PerOperation(r.ClientWorkItems)),
                overMillisecond = r.Scenario.Kind == ScenarioKind.Latency ? r.OverMillisecond : (int?)null,
                clientBytesPerOp = Finite(r.ClientBytesPerOperation),
                serverBytesPerOp = Finite(r.ServerBytesPerOperation),
                machMessagesSentPerOp = Finite(r.PerOperation(r.Mach.Sent)),
                machMessagesReceivedPerOp = Finite(r.PerOperation(r.Mach.Received)),
                machOutOfLinePerOp = Finite(r.PerOperation(r.Mach.OutOfLine)),
                machCreditStallsPerOp = Finite(r.PerOperation(r.Mach.Stalls)),
            }),
            idle,
            ratios = Ratios(results).Select(r => new { scenario = r.Scenario, pair = $"mach/{r.Other}", ratio = r.Ratio }),
        };
        await using FileStream file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, document, Json);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static string F(double value) => !double.IsFinite(value) ? "" : value switch
    {
        >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };
}
