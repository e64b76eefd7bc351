// machctl ping, list and the errors of bridge against the test host.
using System.Net;
using System.Net.Sockets;
using MachTransport.Tests;
using MachTransport.Tests.Transport;
using Xunit;

namespace MachTransport.Tools.Tests;

[Trait("Category", "Tools")]
public sealed class PingAndListTests
{
    [Fact]
    public async Task PingPrintsTheServerPidAndASummary()
    {
        await using TransportHost host = await TransportHost.StartAsync("ping");
        (int exitCode, string output, string error) = await Machctl.RunAsync("ping", host.Service, "-c", "3", "-i", "0.05");

        Assert.True(exitCode == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Count(l => l.StartsWith($"accepted by pid {host.Pid} (uid ", StringComparison.Ordinal)));
        Assert.Contains("3 handshakes, 3 accepted, 0% failed", output);
        Assert.Matches(@"rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms", output);
    }

    [Fact]
    public async Task PingOfAMissingServiceFailsWithAMessage()
    {
        string service = TestEnvironment.UniqueServiceName("ping-missing");
        (int exitCode, string output, _) = await Machctl.RunAsync("ping", service, "-c", "1");
        Assert.Equal(1, exitCode);
        Assert.Contains($"No Mach service named '{service}' is registered", output);
        Assert.Contains("1 handshakes, 0 accepted, 100% failed", output);
    }

    [Fact]
    public async Task ListShowsTheServiceItsPidAndWhetherItIsAlive()
    {
        TransportHost host = await TransportHost.StartAsync("list");
        string line = ListLine(await ListAsync(), host.Service);
        Assert.Matches($@"^{Regex(host.Service)}\s+{host.Pid}\s+alive$", line);

        await host.KillAsync();
        await host.DisposeAsync();
        Assert.Matches($@"^{Regex(host.Service)}\s+-\s+stale ", ListLine(await ListAsync(), host.Service));
    }

    [Fact]
    public async Task BridgeToAMissingServiceFailsWithAMessage()
    {
        string service = TestEnvironment.UniqueServiceName("bridge-missing");
        (int exitCode, _, string error) = await Machctl.RunAsync("bridge", "--listen", "127.0.0.1:0", "--service", service);
        Assert.Equal(1, exitCode);
        Assert.Contains($"No Mach service named '{service}' is registered", error);
    }

    [Fact]
    public async Task BridgeOnAnAddressInUseFailsWithAMessage()
    {
        await using TransportHost host = await TransportHost.StartAsync("bridge-in-use");
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        string address = $"127.0.0.1:{((IPEndPoint)taken.LocalEndPoint!).Port}";

        (int exitCode, _, string error) = await Machctl.RunAsync("bridge", "--listen", address, "--service", host.Service);
        Assert.Equal(1, exitCode);
        Assert.Contains($"{address} is already in use", error);
    }

    [Fact]
    public async Task EveryCommandHasHelp()
    {
        foreach (string command in new[] { "bridge", "expose", "ping", "list" })
        {
            (int exitCode, string output, _) = await Machctl.RunAsync(command, "--help");
            Assert.Equal(0, exitCode);
            Assert.Contains($"machctl {command}", output);
        }
    }

    private static async Task<string> ListAsync()
    {
        (int exitCode, string output, string error) = await Machctl.RunAsync("list");
        Assert.True(exitCode == 0, error);
        return output;
    }

    private static string ListLine(string output, string service)
        => Assert.Single(output.Split('\n'), l => l.StartsWith(service + " ", StringComparison.Ordinal)).TrimEnd();

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}
