// Runs the scenarios in interleaved rounds: every round runs one batch of every case, the transports of a scenario
// back to back in an order that rotates from round to round, so slow phases of a shared machine hit all of them.
using System.Diagnostics;

namespace MachTransport.Benchmarks;

internal sealed class Runner(MachCounters counters)
{
    public async Task<List<CaseResult>> RunAsync(IReadOnlyList<Scenario> scenarios, int warmupRounds, int rounds, Func<Task>? beforeMeasuring = null)
    {
        var results = scenarios.SelectMany(s => s.Cases.Select(c => (Scenario: s, Case: c, Result: new CaseResult(s, c)))).ToList();
        for (int round = 0; round < warmupRounds + rounds; round++)
        {
            if (round == warmupRounds && beforeMeasuring is not null)
            {
                await beforeMeasuring();
            }

            bool measured = round >= warmupRounds;
            foreach (Scenario scenario in scenarios)
            {
                int cases = scenario.Cases.Count;
                for (int i = 0; i < cases; i++)
                {
                    Case @case = scenario.Cases[(i + round) % cases];
                    CaseResult result = results.First(r => r.Case == @case).Result;
                    await RunBatchAsync(scenario, @case, measured ? result : null);
                }
            }

            Console.Error.Write(measured ? "." : "w");
        }

        Console.Error.WriteLine();
        return [.. results.Select(r => r.Result)];
    }

    private async Task RunBatchAsync(Scenario scenario, Case @case, CaseResult? result)
    {
        var latencies = new List<long>(scenario.Kind == ScenarioKind.Latency ? scenario.BatchSize : 0);
        long serverBefore = result is not null && @case.ServerAllocated is not null ? await @case.ServerAllocated() : 0;
        MachCounters.Snapshot machBefore = counters.Read();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        double cpuBefore = Cpu(@case);
        long workItemsBefore = ThreadPool.CompletedWorkItemCount;
        long start = Stopwatch.GetTimestamp();
        long units = await @case.Run(scenario.BatchSize, latencies);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        double cpu = Cpu(@case) - cpuBefore;
        long workItems = ThreadPool.CompletedWorkItemCount - workItemsBefore;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        MachCounters.Snapshot mach = counters.Read() - machBefore;
        if (result is null)
        {
            return;
        }

        if (@case.ServerAllocated is not null)
        {
            result.ServerAllocated += await @case.ServerAllocated() - serverBefore;
            result.ServerMeasured = true;
        }

        result.Operations += scenario.BatchSize;
        result.ClientAllocated += allocated;
        result.Mach += mach;
        result.CpuSeconds += cpu;
        result.ClientWorkItems += workItems;
        if (scenario.Kind == ScenarioKind.Latency)
        {
            result.LatenciesMicroseconds.AddRange(latencies.Select(t => t * 1e6 / Stopwatch.Frequency));
        }
        else
        {
            double scale = scenario.Unit == "MB/s" ? 1e-6 : 1;
            result.RoundRates.Add(units * scale / elapsed.TotalSeconds);
        }
    }

    private static double Cpu(Case @case)
        => ProcessCpu.Seconds(Environment.ProcessId) + (@case.ServerPid == 0 ? 0 : ProcessCpu.Seconds(@case.ServerPid));
}
