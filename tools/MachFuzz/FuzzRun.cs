// A fuzz run: starts the server, measures it at rest, fuzzes it from several workers while the well-behaved client
// keeps working, releases everything the fuzzer holds, waits (bounded) for the server to come back to rest and
// reports. The verdict: the server alive, the client never failed, descriptors and mappings back at the baseline.
using System.Diagnostics;

namespace MachTransport.Fuzz;

internal sealed record FuzzSettings(
    long Seed, long Messages, IReadOnlyList<long>? Indices, int Workers, int ClientLoops, TimeSpan Settle, int MappingSlack, int WarmUp, int KeepAliveSeconds, string? MapsDump, bool Quiet);

internal static class FuzzRun
{
    private const long WarmUpSeedOffset = 1_000_000_007;

    public static async Task<FuzzReport> RunAsync(FuzzSettings settings)
    {
        string service = $"machfuzz-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        await using ServerProcess server = await ServerProcess.StartAsync(service, settings.KeepAliveSeconds).ConfigureAwait(false);
        using var bystander = new Bystander(service);
        var report = new FuzzReport { Seed = settings.Seed, ServerPid = server.Pid, MappingSlack = settings.MappingSlack };

        // At rest: the client's connection open and warm, one fuzzing connection made and released.
        if (!await bystander.RoundAsync().ConfigureAwait(false))
        {
            throw new InvalidOperationException($"the well-behaved client fails before any fuzzing: {string.Join("; ", bystander.Failures)}");
        }

        // Warm-up with other inputs (another seed), so the runtime has compiled the server's paths before the baseline:
        // its JIT's code mappings and thread stacks would otherwise count as growth.
        await using (var warmUp = new Worker(service, new FuzzCounters()))
        {
            for (long index = 0; index < settings.WarmUp && !server.HasExited; index++)
            {
                await warmUp.SendAsync(CaseGenerator.Generate(settings.Seed + WarmUpSeedOffset, index)).ConfigureAwait(false);
            }
        }

        await WaitForConnectionsAsync(server, 1, TimeSpan.FromSeconds(30)).ConfigureAwait(false); // the warm-up's have ended
        (report.FdsStart, report.MappingsStart) = await RestAsync(server, TimeSpan.FromSeconds(30), settings.MappingSlack, baseline: null).ConfigureAwait(false);
        report.MemfdMappingsStart = server.CountMemfdMappings();
        report.ProtocolErrorsStart = (await server.StatsAsync().ConfigureAwait(false))["protocolErrors"];
        report.FdKindsStart = server.DescribeFds();
        string[] mapsStart = server.Mappings();

        using var stopClient = new CancellationTokenSource();
        Task client = bystander.RunAsync(settings.ClientLoops, stopClient.Token);
        var counters = new FuzzCounters();
        var watch = Stopwatch.StartNew();
        var workers = new List<Worker>();
        for (int i = 0; i < settings.Workers; i++)
        {
            workers.Add(new Worker(service, new FuzzCounters()));
        }

        long next = -1;
        long total = settings.Indices?.Count ?? settings.Messages;
        // A server that stops serving without dying (the client's requests make no progress for 30 s) ends the run too.
        long lastSucceeded = -1, stalledTicks = 0, stalled = 0;
        using var progress = new Timer(
            _ =>
            {
                Progress(settings, server, bystander, workers, watch, Interlocked.Read(ref next) + 1, total);
                long succeeded = bystander.Succeeded;
                stalledTicks = succeeded == lastSucceeded ? stalledTicks + 1 : 0;
                lastSucceeded = succeeded;
                Interlocked.Exchange(ref stalled, stalledTicks >= 3 ? 1 : 0);
            },
            null,
            10_000,
            10_000);
        await Task.WhenAll(workers.Select(worker => Task.Run(async () =>
        {
            long position;
            while ((position = Interlocked.Increment(ref next)) < total && !server.HasExited && Interlocked.Read(ref stalled) == 0)
            {
                long index = settings.Indices?[(int)position] ?? position;
                await worker.SendAsync(CaseGenerator.Generate(settings.Seed, index)).ConfigureAwait(false);
            }
        }))).ConfigureAwait(false);
        await progress.DisposeAsync().ConfigureAwait(false);
        report.Seconds = watch.Elapsed.TotalSeconds;

        if (Interlocked.Read(ref stalled) != 0 && !server.HasExited)
        {
            report.Stalls = 1;
            report.CrashDetail = $"the server stopped serving (no client request completed for 30 s); indices sent last: {string.Join(' ', workers.SelectMany(w => w.Recent).Order())}";
        }

        if (server.HasExited)
        {
            report.Crashes = 1;
            report.CrashDetail = $"exit code {server.ExitCode}; indices sent last: {string.Join(' ', workers.SelectMany(w => w.Recent).Order())}\n{server.StderrTail}";
        }

        stopClient.Cancel();
        await client.ConfigureAwait(false);
        foreach (Worker worker in workers)
        {
            counters.Add(worker.Counters);
            await worker.DisposeAsync().ConfigureAwait(false);
        }

        report.Add(counters);
        if (report.Crashes == 0 && report.Stalls == 0)
        {
            _ = await bystander.RoundAsync().ConfigureAwait(false); // still serving after the fuzzing stopped
            var settling = Stopwatch.StartNew();
            (report.FdsEnd, report.MappingsEnd) = await RestAsync(server, settings.Settle, settings.MappingSlack, (report.FdsStart, report.MappingsStart, report.MemfdMappingsStart)).ConfigureAwait(false);
            report.SettleSeconds = settling.Elapsed.TotalSeconds;
            report.MemfdMappingsEnd = server.CountMemfdMappings();
            Dictionary<string, long> stats = await server.StatsAsync().ConfigureAwait(false);
            report.ProtocolErrorsEnd = stats["protocolErrors"];
            report.ActiveConnectionsEnd = stats["active"];
            report.FdKindsEnd = server.DescribeFds();
            if (settings.MapsDump is not null)
            {
                await File.WriteAllLinesAsync(settings.MapsDump + ".start", mapsStart).ConfigureAwait(false);
                await File.WriteAllLinesAsync(settings.MapsDump + ".end", server.Mappings()).ConfigureAwait(false);
            }
        }

        report.ServerLog = server.StderrTail;
        report.ClientRequests = bystander.Succeeded;
        report.ClientFailures = bystander.FailureCount;
        report.ClientFailureDetails = [.. bystander.Failures.Take(10)];
        report.Crashes += server.HasExited && report.Crashes == 0 ? 1 : 0;
        return report;
    }

    /// <summary>
    /// Waits until the server is at rest: with a baseline, until its descriptors and mappings are back to it (within the
    /// slack for mappings), else until both counts hold still for a second. Bounded by <paramref name="timeout"/>; returns
    /// the last counts either way.
    /// </summary>
    private static async Task<(int Fds, int Mappings)> RestAsync(ServerProcess server, TimeSpan timeout, int slack, (int Fds, int Mappings, int Memfd)? baseline)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        (int Fds, int Mappings) last = (server.CountFds(), server.CountMappings());
        while (Environment.TickCount64 < deadline && !server.HasExited)
        {
            await Task.Delay(baseline is null ? 1000 : 200).ConfigureAwait(false);
            (int Fds, int Mappings) now = (server.CountFds(), server.CountMappings());
            bool done = baseline is { } b
                ? now.Fds <= b.Fds && now.Mappings <= b.Mappings + slack && server.CountMemfdMappings() <= b.Memfd
                : now == last;
            last = now;
            if (done)
            {
                break;
            }
        }

        return last;
    }

    private static async Task WaitForConnectionsAsync(ServerProcess server, long active, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline && !server.HasExited && (await server.StatsAsync().ConfigureAwait(false))["active"] > active)
        {
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    private static void Progress(FuzzSettings settings, ServerProcess server, Bystander bystander, List<Worker> workers, Stopwatch watch, long done, long total)
    {
        if (settings.Quiet || server.HasExited)
        {
            return;
        }

        done = Math.Min(done, total);
        Console.Error.WriteLine(
            $"{watch.Elapsed:hh\\:mm\\:ss} {done}/{total} messages ({done / watch.Elapsed.TotalSeconds:0}/s), "
            + $"{workers.Sum(w => w.Counters.Connections)} connections; server fds={server.CountFds()} maps={server.CountMappings()}; "
            + $"client ok={bystander.Succeeded} failed={bystander.FailureCount}");
    }
}
