// The command line of the harness: quick or full mode, filters, output and profiler hooks.
using System.Globalization;

namespace MachTransport.Benchmarks;

internal sealed record Settings
{
    public bool Quick { get; init; }

    public int WarmupRounds { get; init; }

    public int Rounds { get; init; }

    /// <summary>Scales every batch size (full mode runs larger batches).</summary>
    public int BatchScale { get; init; }

    /// <summary>Variants beside the defaults, each with its own server process.</summary>
    public IReadOnlyList<Variant> Variants { get; init; } = [];

    /// <summary>Only scenarios whose name starts with one of these (all when empty).</summary>
    public IReadOnlyList<string> Only { get; init; } = [];

    /// <summary>Only these transports (all when empty).</summary>
    public IReadOnlyList<string> Transports { get; init; } = [];

    public int IdleConnections { get; init; }

    public string JsonPath { get; init; } = "";

    /// <summary>A command started for this process and the main server once warm-up is over, "{pid}" and "{name}" substituted, stopped with SIGINT at the end.</summary>
    public string? Attach { get; init; }

    public const string Usage = """
        usage: MachTransport.Benchmarks [--quick | --full] [--rounds N] [--only s1,s2] [--transports mach,uds,tcp,floor]
                                        [--idle N] [--json PATH] [--attach 'COMMAND {pid} {name}']
                                        [--variants none | v1,v2 (tuned, h2win, inline64k, window8m)]
          --quick   about a minute: default settings and the 'tuned' variant (the default mode)
          --full    more rounds and larger batches, plus one variant per proposal (h2win, inline64k, window8m): several minutes
          --json    default: machtransport-bench-<mode>.json next to the assembly
          --attach  e.g. 'strace -f -c -o /tmp/{name}.strace -p {pid}' or 'perf stat -e page-faults,context-switches -o /tmp/{name}.perf -p {pid}'
        """;

    public bool Includes(string scenario) => Only.Count == 0 || Only.Any(o => scenario.StartsWith(o, StringComparison.Ordinal));

    public bool Includes(string scenario, string transport) => Includes(scenario) && (Transports.Count == 0 || Transports.Contains(transport));

    public static Settings? Parse(string[] args)
    {
        bool full = args.Contains("--full");
        var settings = new Settings
        {
            Quick = !full,
            WarmupRounds = full ? 3 : 2,
            Rounds = full ? 12 : 8,
            BatchScale = full ? 2 : 1,
            Variants = full ? [Variant.Tuned, .. Variant.SingleFactors] : [Variant.Tuned],
            IdleConnections = full ? 200 : 50,
            JsonPath = Path.Combine(AppContext.BaseDirectory, full ? "machtransport-bench-full.json" : "machtransport-bench-quick.json"),
        };
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--quick" or "--full":
                    break;
                case "--rounds" when value is not null:
                    settings = settings with { Rounds = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--only" when value is not null:
                    settings = settings with { Only = value.Split(',') };
                    i++;
                    break;
                case "--transports" when value is not null:
                    settings = settings with { Transports = value.Split(',') };
                    i++;
                    break;
                case "--idle" when value is not null:
                    settings = settings with { IdleConnections = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--json" when value is not null:
                    settings = settings with { JsonPath = Path.GetFullPath(value) };
                    i++;
                    break;
                case "--variants" when value is not null:
                    settings = settings with { Variants = value == "none" ? [] : [.. value.Split(',').Select(Variant.Named)] };
                    i++;
                    break;
                case "--attach" when value is not null:
                    settings = settings with { Attach = value };
                    i++;
                    break;
                default:
                    return null;
            }
        }

        return settings;
    }
}
