using System.Globalization;
using MachTransport.Mach;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using MachTransport.Tests.Transport;
using Xunit;

namespace MachTransport.Tests.CrossUser;

/// <summary>
/// Issue 19: a root server in the system domain and clients of another user, for real (user nobody, through setpriv):
/// the peer policy as the client sees it, the kernel's identity of that client, launchd's rules for system names, and
/// what such a process can reach of a root server's ports and memory.
/// </summary>
[Trait("Category", "CrossUser")]
public sealed class CrossUserTests
{
    private const string Peer = "MachTransport.MachPeer";
    private const string Host = "MachTransport.TestHost";

    [LinuxRootFact]
    public async Task TheDefaultSameUserPolicyRefusesNobodyAndTheClientSeesWhy()
    {
        await using TransportHost host = await TransportHost.StartAsync("default-policy", "--system");

        string refusal = await Nobody.OutputOfAsync(Peer, "connect", host.Service, "30000");

        Assert.Contains($"uid {Nobody.Uid}", refusal, StringComparison.Ordinal);
        Assert.Contains("is not allowed", refusal, StringComparison.Ordinal);
    }

    [LinuxRootFact]
    public async Task APolicyAdmittingNobodyAcceptsItAndTheServerSeesItsKernelIdentity()
    {
        await using TransportHost host = await TransportHost.StartAsync("admit-nobody", "--system", "--admit", Nobody.Uid.ToString(CultureInfo.InvariantCulture));

        await using ChildProcess client = Nobody.Start(Host, "get", host.Service, "/peer");
        string answer = await client.ReadLineAsync(TimeSpan.FromSeconds(90));

        Assert.Equal($"200 {client.Id} {Nobody.Uid} {Nobody.Uid}", answer);
    }

    [LinuxRootFact]
    public async Task NobodyCannotRegisterReplaceOrRemoveASystemName()
    {
        string name = TestEnvironment.UniqueServiceName("system-name");
        using MachReceiveRight service = MachBootstrap.CheckIn(MachKernel.Current, name, systemDomain: true);
        string basePath = Path.Combine(TestEnvironment.SystemDirectory, LinuxBootstrap.FileNameFor(TestEnvironment.SystemDirectory, name));

        Assert.Contains("BOOTSTRAP_NOT_PRIVILEGED", await Nobody.OutputOfAsync(Peer, "hold-system", name), StringComparison.Ordinal);
        Assert.Contains("BOOTSTRAP_NOT_PRIVILEGED", await Nobody.OutputOfAsync(Peer, "hold-system", name + ".fresh"), StringComparison.Ordinal);
        Assert.NotEqual(0, (await Nobody.RunAsync("rm", "-f", basePath + ".sock")).ExitCode);
        Assert.NotEqual(0, (await Nobody.RunAsync("rm", "-f", basePath + ".lock")).ExitCode);
        Assert.NotEqual(0, (await Nobody.RunAsync("ln", "-sfn", "/dev/null", basePath + ".sock")).ExitCode);
        Assert.NotEqual(0, (await Nobody.RunAsync("mv", "-f", basePath + ".sock", basePath + ".moved")).ExitCode);

        // The name is still root's server's: nobody's look-up reaches it, and the server's own check says so.
        Assert.Equal("Success", await Nobody.OutputOfAsync(Peer, "send-inline", name, "1"));
        Assert.True(MachKernel.Current.BootstrapNameHeld(service.Name));
        Assert.False(File.Exists(Path.Combine(TestEnvironment.SystemDirectory, name + ".fresh.lock")));
    }

    [LinuxRootFact]
    public async Task AStaleSystemNameIsReclaimedByRootOnly()
    {
        string name = TestEnvironment.UniqueServiceName("stale-system");
        await using (ChildProcess registrant = ChildProcess.Start(Peer, "hold-system", name))
        {
            await registrant.ExpectLineAsync("READY");
            await registrant.KillAsync();
        }

        Assert.Contains("BOOTSTRAP_NOT_PRIVILEGED", await Nobody.OutputOfAsync(Peer, "hold-system", name), StringComparison.Ordinal);
        using MachReceiveRight reclaimed = MachBootstrap.CheckIn(MachKernel.Current, name, systemDomain: true);
        Assert.Equal("Success", await Nobody.OutputOfAsync(Peer, "send-inline", name, "1"));
    }

    [LinuxRootFact]
    public void ALookUpFallsThroughToTheSystemDomainAndAUsersOwnNameShadowsIt()
    {
        IMachKernel kernel = MachKernel.Current;
        string name = TestEnvironment.UniqueServiceName("shadowed");
        using MachReceiveRight system = MachBootstrap.CheckIn(kernel, name, systemDomain: true);
        using (MachReceiveRight own = MachBootstrap.CheckIn(kernel, name))
        {
            using MachSendRight shadowing = MachBootstrap.LookUp(kernel, name);
            Assert.Equal(own.Name, shadowing.Name); // a send right to a port of ours is named as its receive right
        }

        using MachSendRight fallen = MachBootstrap.LookUp(kernel, name);
        Assert.Equal(system.Name, fallen.Name);
    }

    [LinuxRootFact]
    public async Task ANobodyProcessReachesNoneOfARootServersPortsConnectionsOrMemory()
    {
        await using TransportHost host = await TransportHost.StartAsync("snooped", "--system", "--admit", Nobody.Uid.ToString(CultureInfo.InvariantCulture));
        using HttpClient client = host.CreateClient();
        using HttpResponseMessage streaming = await client.GetAsync("/infinite", HttpCompletionOption.ResponseHeadersRead); // a live connection, its ports and OOL data

        // The probe works: a process of the server's own user reaches its descriptors.
        await using (ChildProcess root = ChildProcess.Start(Peer, "snoop", host.Pid.ToString(CultureInfo.InvariantCulture)))
        {
            string reached = await root.ReadLineAsync();
            Assert.True(int.Parse(reached["REACHED ".Length..], CultureInfo.InvariantCulture) > 10, reached);
        }

        Assert.Equal("REACHED 0", await Nobody.OutputOfAsync(Peer, "snoop", host.Pid.ToString(CultureInfo.InvariantCulture)));
    }
}
