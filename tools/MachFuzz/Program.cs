// MachFuzz: structure-aware fuzzing of the MachTransport wire protocol against the test host (docs/protocol.md, "Fuzzing").
//   run [--seed N] [--messages N] [--workers N] [--client-loops N] [--settle SECONDS] [--mapping-slack N]
//       [--warm-up N (messages of another seed before the baseline)] [--keepalive SECONDS (the server's idle-connection timeout, default 5)] [--dump-maps PREFIX] [--quiet]
//   replay --seed N --index I [--index J ...]   send only these iterations (a reproducer), then the same checks
//   show --seed N --index I                     print what iteration I of seed N sends, without sending it
// Prints the figures, then "RESULT {json}"; exits 0 when the server survived, the well-behaved client never failed
// and the server's descriptors and mappings came back to where they started.
using System.Globalization;
using MachTransport.Fuzz;

if (args.Length == 0 || args[0] is not ("run" or "replay" or "show"))
{
    Console.Error.WriteLine("usage: MachFuzz run|replay|show [--seed N] [--messages N] [--index I ...] [--workers N] [--client-loops N] [--settle S] [--mapping-slack N] [--quiet]");
    return 2;
}

long seed = Option("--seed", 1);
var indices = args.Select((a, i) => (a, i)).Where(p => p.a == "--index" && p.i + 1 < args.Length)
    .Select(p => long.Parse(args[p.i + 1], CultureInfo.InvariantCulture)).ToList();
if (args[0] == "show")
{
    foreach (long index in indices)
    {
        FuzzCase fuzzCase = CaseGenerator.Generate(seed, index);
        Console.WriteLine(fuzzCase.Describe());
        Console.WriteLine(Convert.ToHexString(fuzzCase.Datagram));
    }

    return 0;
}

var settings = new FuzzSettings(
    seed,
    Option("--messages", 10_000),
    args[0] == "replay" ? indices : null,
    (int)Option("--workers", args[0] == "replay" ? 1 : 4),
    (int)Option("--client-loops", 2),
    TimeSpan.FromSeconds(Option("--settle", 60)),
    (int)Option("--mapping-slack", 64),
    (int)Option("--warm-up", args[0] == "replay" ? 0 : 2000),
    (int)Option("--keepalive", 5),
    StringOption("--dump-maps"),
    args.Contains("--quiet"));
FuzzReport report = await FuzzRun.RunAsync(settings);
Console.WriteLine(report.ToText());
Console.WriteLine("RESULT " + report.ToJson());
return report.Passed ? 0 : 1;

string? StringOption(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

long Option(string name, long fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? long.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}
