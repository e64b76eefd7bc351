// machctl list as another user than the registry's, with a root server in the system domain.
using MachTransport.Tests.Transport;
using Xunit;

namespace MachTransport.Tools.Tests;

[Trait("Category", "CrossUser")]
public sealed class CrossUserListTests
{
    /// <summary>
    /// Issue 19 item 5: run by a user who cannot read the registry directory, list died with an unhandled
    /// UnauthorizedAccessException and its stack trace. It now names the domain it cannot read and lists the system domain.
    /// </summary>
    [LinuxRootFact]
    public async Task ListAsAUserRefusedTheDirectoryNamesItAndShowsTheSystemDomain()
    {
        await using TransportHost host = await TransportHost.StartAsync("list-system", "--system");

        (int exitCode, string output, string error) = await Machctl.RunUnderAsync(Nobody.Launcher, "list");

        Assert.Equal(1, exitCode);
        Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
        Assert.Equal($"machctl: cannot read the user domain's directory '{TestEnvironment.BootstrapDirectory}': Access to the path '{TestEnvironment.BootstrapDirectory}' is denied.", error.Trim());
        Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(host.Service)}\s+system\s+{host.Pid}\s+alive\s*$", output);
    }
}
