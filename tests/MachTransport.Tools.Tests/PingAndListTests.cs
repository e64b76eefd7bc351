// machctl ping, list and the errors of bridge against the test host.
using System.Net;
using System.Net.Sockets;
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
        Assert.Contains("3 handshakes, 3 answered, 0% failed", output);
        Assert.Matches(@"rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms", output);
    }

    [Fact]
    public async Task PingOfAMissingServiceFailsWithAMessage()
    {
        string service = TestEnvironment.UniqueServiceName("ping-missing");
        (int exitCode, string output, _) = await Machctl.RunAsync("ping", service, "-c", "1");
        Assert.Equal(1, exitCode);
        Assert.Contains($"No Mach service named '{service}' is registered", output);
        Assert.Contains("1 handshakes, 0 answered, 100% failed", output);
    }

    [Fact]
    public async Task ListShowsTheServiceItsPidAndWhetherItIsAlive()
    {
        TransportHost host = await TransportHost.StartAsync("list");
        string line = ListLine(await ListAsync(), host.Service);
        Assert.Matches($@"^{Regex(host.Service)}\s+user\s+{host.Pid}\s+alive$", line);

        await host.KillAsync();
        await host.DisposeAsync();
        Assert.Matches($@"^{Regex(host.Service)}\s+user\s+-\s+stale ", ListLine(await ListAsync(), host.Service));
    }

    /// <summary>
    /// Issue 19 item 4: ping printed "accepted by pid N" while expose's target was down, and exited 0; a client gets a
    /// reset. Ping now counts a handshake once the service answers the HTTP/2 preface.
    /// </summary>
    [Fact]
    public async Task PingOfAnExposeWhoseTargetIsDownFailsAndSaysSo()
    {
        int closedPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port; // nothing listens there once it is closed
        }

        string service = TestEnvironment.UniqueServiceName("ping-dead-target");
        await using Machctl expose = await Machctl.StartAsync("expose", "--service", service, "--to", $"127.0.0.1:{closedPort}");
        (int exitCode, string output, _) = await Machctl.RunAsync("ping", service, "-c", "2", "-i", "0.05");

        Assert.Equal(1, exitCode);
        // Each handshake fails as a client would see it: accepted then reset, or, when expose's reset overtakes its
        // ACCEPT (the target refuses at once), closed right after accepting. Never "accepted" alone.
        Assert.True(
            output.Split('\n').Count(l => (l.Contains($"accepted by pid {expose.Pid} (uid ", StringComparison.Ordinal) && l.Contains(", then reset: ", StringComparison.Ordinal))
                || l.Contains("closed the connection right after accepting it", StringComparison.Ordinal)) == 2,
            output);
        Assert.Contains("2 handshakes, 0 answered, 100% failed", output);
    }

    /// <summary>Issue 19 item 8: an invalid name's error ended in "(Parameter 'serviceName')"; machctl prints the sentence alone.</summary>
    [Fact]
    public async Task AnInvalidNameIsReportedAsOneSentence()
    {
        foreach (string[] command in new[] { new[] { "ping", "a/b" }, ["bridge", "--listen", "127.0.0.1:0", "--service", "a/b"], ["expose", "--service", "a/b", "--to", "127.0.0.1:1"] })
        {
            (int exitCode, _, string error) = await Machctl.RunAsync(command);
            Assert.Equal(1, exitCode);
            Assert.Equal("machctl: 'a/b' is not a valid Mach service name: it must be 1 to 127 UTF-8 bytes without '/' or NUL (reverse-DNS style, such as 'com.example.greeter').", error.Trim());
        }
    }

    /// <summary>Issue 19 item 6: a name with a space, non-ASCII characters, a leading dot or a length that needs hashing was listed as its digest ("h.…").</summary>
    [Fact]
    public async Task ListShowsANameThatIsNoPlainFileNameAsItIs()
    {
        string name = ".a name, ünïcode and long " + Guid.NewGuid().ToString("N") + new string('x', 40);
        await using TransportHost host = await TransportHost.StartOnAsync(name);

        Assert.Matches($@"^{Regex(name)}\s+user\s+{host.Pid}\s+alive$", ListLine(await ListAsync(), name));
    }

    /// <summary>Issue 19 item 6: stale names piled up; prune removes the ones whose process exited, and no other.</summary>
    [Fact]
    public async Task PruneRemovesStaleNamesAndLeavesLiveOnes()
    {
        await using TransportHost live = await TransportHost.StartAsync("prune-live");
        TransportHost gone = await TransportHost.StartAsync("prune-gone");
        await gone.KillAsync();
        await gone.DisposeAsync();

        (int exitCode, string output, string error) = await Machctl.RunAsync("prune");

        Assert.True(exitCode == 0, error);
        Assert.Contains($"removed {gone.Service} (user)", output);
        Assert.DoesNotContain(live.Service, output);
        string list = await ListAsync();
        Assert.DoesNotContain(gone.Service + " ", list);
        Assert.Matches($@"^{Regex(live.Service)}\s+user\s+{live.Pid}\s+alive$", ListLine(list, live.Service));
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
        foreach (string command in new[] { "bridge", "expose", "ping", "list", "prune" })
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
