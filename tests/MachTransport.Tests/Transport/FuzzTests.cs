using System.Text.Json;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>
/// The fuzzer (tools/MachFuzz) for a few thousand messages with a fixed seed against its own child test host: the
/// host stays alive, the well-behaved client never fails, and the host's descriptors and mappings come back to rest.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class FuzzTests
{
    private const string Seed = "20240801";

    [LinuxFact]
    public async Task AFixedSeedFuzzRunLeavesTheServerServingAndAtRest()
    {
        await using ChildProcess fuzzer = ChildProcess.Start("MachFuzz", "run", "--seed", Seed, "--messages", "3000", "--warm-up", "1000", "--settle", "30", "--quiet");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        string line;
        do
        {
            line = await fuzzer.ReadLineAsync(TimeSpan.FromSeconds(120)).WaitAsync(deadline.Token);
        }
        while (!line.StartsWith("RESULT ", StringComparison.Ordinal));

        using JsonDocument result = JsonDocument.Parse(line["RESULT ".Length..]);
        JsonElement report = result.RootElement;
        string summary = line;
        Assert.True(report.GetProperty("MessagesSent").GetInt64() >= 3000, summary);
        Assert.True(report.GetProperty("ProtocolErrorsEnd").GetInt64() > report.GetProperty("ProtocolErrorsStart").GetInt64(), summary);
        Assert.True(report.GetProperty("Crashes").GetInt32() == 0, summary);
        Assert.True(report.GetProperty("ClientFailures").GetInt32() == 0, summary);
        Assert.True(report.GetProperty("ClientRequests").GetInt64() > 0, summary);
        Assert.True(report.GetProperty("FdsEnd").GetInt32() <= report.GetProperty("FdsStart").GetInt32(), summary);
        Assert.True(report.GetProperty("MemfdMappingsEnd").GetInt32() <= report.GetProperty("MemfdMappingsStart").GetInt32(), summary);
        Assert.True(report.GetProperty("MappingsEnd").GetInt32() <= report.GetProperty("MappingsStart").GetInt32() + report.GetProperty("MappingSlack").GetInt32(), summary);
        await fuzzer.WaitForExitAsync();
        Assert.Equal(0, fuzzer.ExitCode);
    }
}
