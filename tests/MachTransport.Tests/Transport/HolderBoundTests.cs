using System.Net.Sockets;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>
/// A same-user process that connects raw sockets to the server's ports (through <c>/proc/&lt;pid&gt;/fd</c> or a looked-up
/// right) makes the server hold a bounded number of them; the bystander and a fresh client are still served.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class HolderBoundTests() : HostWithBystander("holders")
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [LinuxFact]
    public async Task ExtraHoldersOnEveryPortOfTheServerStayBoundedPerProcess()
    {
        var channels = new List<MachChannel>();
        var raw = new List<Socket>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                channels.Add(await MachClientConnector.ConnectAsync(Host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(Patience));
            }

            await Host.WaitForStatsAsync(s => s["active"] >= 11);
            int fdsBefore = Host.CountOpenFds();
            List<string> ports = RawHolders.ServerPorts(Host.Pid);
            Assert.True(ports.Count >= 11, $"{ports.Count} ports found in the server");
            foreach (string port in ports)
            {
                raw.AddRange(RawHolders.Connect(port, 200));
            }

            // This process may keep at most PerPortPerProcess connections in each port (its own right's among them).
            int bound = ports.Count * HolderCounts.PerPortPerProcess;
            await Eventually.HoldsAsync(() => raw.Count(IsOpen) <= bound, Patience, () => $"{raw.Count(IsOpen)} of {raw.Count} raw holders kept by {ports.Count} ports");
            await Eventually.HoldsAsync(() => Host.CountOpenFds() <= fdsBefore + bound, Patience, () => $"the server holds {Host.CountOpenFds() - fdsBefore} more descriptors");

            Assert.Equal("hello HTTP/2", await Bystander.GetStringAsync("/hello"));
            await AssertFreshClientServedAsync();
        }
        finally
        {
            raw.ForEach(socket => socket.Dispose());
            foreach (MachChannel channel in channels)
            {
                await channel.DisposeAsync();
            }
        }
    }

    [LinuxFact]
    public async Task HoldersByTheThousandOnTheServicePortLockNoClientOut()
    {
        IMachKernel kernel = MachKernel.Current;
        int fdsBefore = Host.CountOpenFds();
        Assert.Equal(BootstrapStatus.Success, kernel.BootstrapLookUp(Host.Service, out uint name));
        using var service = new MachSendRight(kernel, name);
        using LinuxFd path = LinuxKernel.Instance.DuplicatePath(name);
        List<Socket> raw = RawHolders.Connect($"/proc/self/fd/{path.Number}", 1100);
        try
        {
            await Eventually.HoldsAsync(() => raw.Count(IsOpen) < HolderCounts.PerPortPerProcess, Patience, () => $"{raw.Count(IsOpen)} of {raw.Count} raw holders kept");
            await Eventually.HoldsAsync(() => Host.CountOpenFds() <= fdsBefore + HolderCounts.PerPortPerProcess, Patience, () => $"the server holds {Host.CountOpenFds() - fdsBefore} more descriptors");

            await AssertFreshClientServedAsync();
        }
        finally
        {
            raw.ForEach(socket => socket.Dispose());
        }
    }

    /// <summary>A client in a process of its own (this one is the attacker, past its own bounds) connects.</summary>
    private async Task AssertFreshClientServedAsync()
    {
        await using ChildProcess client = ChildProcess.Start("MachTransport.MachPeer", "connect", Host.Service, "30000");
        Assert.Equal("CONNECTED", await client.ReadLineAsync(Patience));
    }

    /// <summary>Not turned away: the server keeps this connection (a refused one reads end-of-file).</summary>
    private static bool IsOpen(Socket socket) => !socket.Poll(0, SelectMode.SelectRead);
}
