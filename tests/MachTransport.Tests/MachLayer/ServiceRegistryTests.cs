using MachTransport.Mach;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// The public reader of the emulation's registry (what machctl list and prune use): a live name with its holder, a
/// stale one without, and a removal that takes only the stale one.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class ServiceRegistryTests
{
    [LinuxFact]
    public void ALiveNameShowsItsHolderAndAStaleOneIsRemovedAlone()
    {
        string live = TestEnvironment.UniqueServiceName("registry-live");
        string stale = TestEnvironment.UniqueServiceName("registry-stale");
        string directory = MachServiceRegistry.GetDirectory(MachBootstrapDomain.User);
        using MachReceiveRight port = MachBootstrap.CheckIn(Kernel, live);
        // What a registrant killed before it unregistered leaves: the lock file with its name, nobody holding it.
        string staleLock = Path.Combine(directory, stale + ".lock");
        File.WriteAllText(staleLock, stale);

        IReadOnlyList<MachRegisteredService> names = MachServiceRegistry.GetServices(MachBootstrapDomain.User);
        MachRegisteredService liveName = Assert.Single(names, n => n.ServiceName == live);
        MachRegisteredService staleName = Assert.Single(names, n => n.ServiceName == stale);

        Assert.Equal(Environment.ProcessId, liveName.HolderPid);
        Assert.True(liveName.IsListening);
        Assert.Equal(MachBootstrapDomain.User, liveName.Domain);
        Assert.Null(staleName.HolderPid);
        Assert.False(staleName.IsListening);

        Assert.False(MachServiceRegistry.RemoveIfStale(liveName));
        Assert.True(MachServiceRegistry.RemoveIfStale(staleName));
        Assert.False(File.Exists(staleLock));
        Assert.Contains(MachServiceRegistry.GetServices(MachBootstrapDomain.User), n => n.ServiceName == live);
        MachBootstrap.LookUp(Kernel, live).Dispose(); // still reachable
    }
}
