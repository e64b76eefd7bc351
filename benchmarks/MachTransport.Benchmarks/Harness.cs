// One run: the server processes (defaults and each variant), the scenarios, the interleaved rounds, idle memory, the report.
using System.Globalization;

namespace MachTransport.Benchmarks;

internal static class Harness
{
    public static async Task<int> RunAsync(Settings settings, string directory)
    {
        Console.Error.WriteLine($"{(settings.Quick ? "quick" : "full")} run: {settings.WarmupRounds} warm-up + {settings.Rounds} rounds, variants: {string.Join(", ", settings.Variants.Select(v => v.Name))}");
        string Id(string name) => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}.{name}");
        Task<ServerProcess> mainStart = ServerProcess.StartAsync(new ServerAddresses(Id("default"), directory), Variant.Default);
        Task<ServerProcess>[] variantStarts = [.. settings.Variants.Select(v => ServerProcess.StartAsync(new ServerAddresses(Id(v.Name), directory), v))];
        await using ServerProcess main = await mainStart;
        var variants = new List<ServerProcess>();
        try
        {
            foreach (Task<ServerProcess> start in variantStarts)
            {
                variants.Add(await start);
            }

            using var counters = new MachCounters();
            using StatsProbe probe = await StatsProbe.CreateAsync(main);
            await using Catalog catalog = await Catalog.BuildAsync(settings, main, variants, probe);
            Profilers? profilers = null;
            List<CaseResult> results;
            try
            {
                results = await new Runner(counters).RunAsync(catalog.Scenarios, settings.WarmupRounds, settings.Rounds, async () =>
                {
                    if (settings.Attach is string attach)
                    {
                        profilers = await Profilers.AttachAsync(attach, ("client", Environment.ProcessId), ("server", main.Pid));
                    }
                });
            }
            finally
            {
                if (profilers is not null)
                {
                    await profilers.DisposeAsync();
                }
            }

            List<IdleMemory.Result> idle = settings.IdleConnections > 0 && settings.Includes("idle-connection")
                ? await IdleMemory.MeasureAsync(settings, main, probe)
                : [];
            Console.WriteLine(Report.Table(results));
            Console.WriteLine(Report.CpuTable(results));
            if (idle.Count > 0)
            {
                Console.WriteLine(Report.IdleTable(idle));
            }

            Console.Write(Report.RatioLines(Report.Ratios(results)));
            await Report.WriteJsonAsync(settings.JsonPath, settings, results, idle);
            Console.Error.WriteLine($"results: {settings.JsonPath}");
            return 0;
        }
        finally
        {
            foreach (ServerProcess server in variants)
            {
                await server.DisposeAsync();
            }
        }
    }
}
