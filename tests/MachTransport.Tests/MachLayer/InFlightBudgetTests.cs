using System.Diagnostics;
using MachTransport.Mach.Linux;
using Xunit;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// Linux lets a user have at most RLIMIT_NOFILE descriptors in flight (passed in SCM_RIGHTS, not yet received); past it
/// sendmsg with descriptors fails with ETOOMANYREFS, and any process of the user can get there by leaving its own
/// messages unread. A look-up is then answered with a resource shortage that says so, not "no such service".
/// </summary>
[Trait("Category", "Hostile")]
public sealed class InFlightBudgetTests
{
    /// <summary>The server's limit: the budget it may send descriptors under. The attacker puts more than this in flight.</summary>
    private const int ServerOpenFileLimit = 1024;

    [LinuxFact]
    public async Task ALookUpPastTheUsersInFlightBudgetSaysSoAndTheServiceServesAgainAfter()
    {
        // The budget is per user, and root is exempt from it: when root, every process of the test runs as nobody, whose
        // budget nothing else uses. Only the server's limit is lowered, so no other process of the user is affected.
        string[] user = Libc.geteuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
        string directory = Path.Combine(Path.GetTempPath(), $"machtransport-inflight-{Guid.NewGuid():N}"[..40]);
        await RunAsync([.. user, "mkdir", "-m", "700", directory]);
        var environment = new Dictionary<string, string> { ["MACHTRANSPORT_BOOTSTRAP_DIR"] = directory, ["DOTNET_CLI_HOME"] = Path.GetTempPath() };
        string name = TestEnvironment.UniqueServiceName("inflight");
        try
        {
            await using ChildProcess server = ChildProcess.StartUnder(
                ["prlimit", $"--nofile={ServerOpenFileLimit}:{ServerOpenFileLimit}", .. user], "MachTransport.MachPeer", environment, "serve", name);
            await server.ExpectLineAsync("READY");

            await using (ChildProcess attacker = ChildProcess.StartUnder(user, "MachTransport.MachPeer", environment, "inflight", "1500"))
            {
                await attacker.ExpectLineAsync("INFLIGHT");
                await using ChildProcess refused = ChildProcess.StartUnder(user, "MachTransport.MachPeer", environment, "call", name);
                string error = await refused.ReadErrorAsync();
                Assert.Contains("BOOTSTRAP_NO_MEMORY", error, StringComparison.Ordinal);
                Assert.Contains("in flight", error, StringComparison.Ordinal);
                Assert.Contains("ETOOMANYREFS", error, StringComparison.Ordinal);
                attacker.CloseInput();
                await attacker.WaitForExitAsync();
            }

            await using ChildProcess served = ChildProcess.StartUnder(user, "MachTransport.MachPeer", environment, "call", name);
            Assert.Matches("^[0-9A-F]{64}$", await served.ReadLineAsync());
        }
        finally
        {
            await RunAsync([.. user, "rm", "-rf", directory]);
        }
    }

    private static async Task RunAsync(string[] command)
    {
        var info = new ProcessStartInfo(command[0]);
        foreach (string argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, process.ExitCode);
    }
}
