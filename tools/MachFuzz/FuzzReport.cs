// The figures of a fuzz run and its verdict; printed as text and as one JSON line ("RESULT {...}") for scripts and tests.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MachTransport.Fuzz;

internal sealed class FuzzReport
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };

    public long Seed { get; set; }

    public int ServerPid { get; set; }

    public double Seconds { get; set; }

    public long MessagesSent { get; set; }

    public Dictionary<string, long> MessagesRefused { get; set; } = [];

    public long MessagesSkipped { get; set; }

    public long Connections { get; set; }

    public long ConnectFailures { get; set; }

    public int Crashes { get; set; }

    /// <summary>Runs ended because the server, alive, stopped serving the well-behaved client.</summary>
    public int Stalls { get; set; }

    public string? CrashDetail { get; set; }

    public long ClientRequests { get; set; }

    public int ClientFailures { get; set; }

    public List<string> ClientFailureDetails { get; set; } = [];

    /// <summary>How long the server took to come back to rest after everything was released (bounded by the settle time).</summary>
    public double SettleSeconds { get; set; }

    public int FdsStart { get; set; }

    public int FdsEnd { get; set; }

    public int MappingsStart { get; set; }

    public int MappingsEnd { get; set; }

    public int MappingSlack { get; set; }

    public int MemfdMappingsStart { get; set; }

    public int MemfdMappingsEnd { get; set; }

    public string FdKindsStart { get; set; } = string.Empty;

    public string FdKindsEnd { get; set; } = string.Empty;

    public long ProtocolErrorsStart { get; set; }

    public long ProtocolErrorsEnd { get; set; }

    public long ActiveConnectionsEnd { get; set; }

    /// <summary>The last lines the server wrote to stderr (warnings and errors only).</summary>
    public string ServerLog { get; set; } = string.Empty;

    public bool Passed => Crashes == 0 && Stalls == 0 && ClientFailures == 0 && FdsEnd <= FdsStart && MappingsEnd <= MappingsStart + MappingSlack && MemfdMappingsEnd <= MemfdMappingsStart;

    public void Add(FuzzCounters counters)
    {
        MessagesSent = counters.Sent + counters.Preambles;
        MessagesSkipped = counters.Skipped;
        Connections = counters.Connections;
        ConnectFailures = counters.ConnectFailures;
        MessagesRefused = counters.Refused.ToDictionary(e => ErrnoName(e.Key), e => e.Value);
    }

    public string ToText()
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"seed {Seed}: {MessagesSent} messages sent in {Seconds:0.0} s ({MessagesSent / Math.Max(Seconds, 0.001):0}/s), {Connections} connections");
        text.AppendLine(culture, $"  refused by the socket layer (port gone): {(MessagesRefused.Count == 0 ? "none" : string.Join(", ", MessagesRefused.Select(e => $"{e.Key} {e.Value}")))}; skipped {MessagesSkipped}; connect failures {ConnectFailures}");
        text.AppendLine(culture, $"  server crashes: {Crashes}, stalls: {Stalls}{(CrashDetail is null ? string.Empty : "\n" + CrashDetail)}");
        text.AppendLine(culture, $"  well-behaved client: {ClientRequests} requests checked, {ClientFailures} failures");
        foreach (string failure in ClientFailureDetails)
        {
            text.AppendLine(culture, $"    {failure}");
        }

        text.AppendLine(culture, $"  back at rest after {SettleSeconds:0.0} s");
        text.AppendLine(culture, $"  server descriptors: {FdsStart} at start, {FdsEnd} at end ({FdKindsStart} -> {FdKindsEnd})");
        text.AppendLine(culture, $"  server mappings: {MappingsStart} at start, {MappingsEnd} at end (slack {MappingSlack} for the runtime's own); memfd (out-of-line) mappings {MemfdMappingsStart} -> {MemfdMappingsEnd}");
        text.AppendLine(culture, $"  protocol errors counted by the server: {ProtocolErrorsEnd - ProtocolErrorsStart}; Mach connections still active: {ActiveConnectionsEnd}");
        if (ServerLog.Length > 0)
        {
            text.AppendLine("  server log (stderr, last lines):").AppendLine(ServerLog);
        }

        text.Append(Passed ? "PASS" : "FAIL");
        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    private static string ErrnoName(int errno) => errno switch
    {
        32 => "EPIPE",
        104 => "ECONNRESET",
        107 => "ENOTCONN",
        11 => "EAGAIN",
        90 => "EMSGSIZE",
        109 => "ETOOMANYREFS",
        _ => $"errno{errno}",
    };
}
