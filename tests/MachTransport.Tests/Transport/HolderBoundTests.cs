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
            List<string> ports = ServerPorts(Host.Pid);
            Assert.True(ports.Count >= 11, $"{ports.Count} ports found in the server");
            foreach (string port in ports)
            {
                raw.AddRange(ConnectRaw(port, 200));
            }

            // This process may keep at most PerPortPerProcess connections in each port (its own right's among them).
            int bound = ports.Count * HolderCounts.PerPortPerProcess;
            await WaitUntilAsync(() => raw.Count(IsOpen) <= bound, () => $"{raw.Count(IsOpen)} of {raw.Count} raw holders kept by {ports.Count} ports");
            await WaitUntilAsync(() => Host.CountOpenFds() <= fdsBefore + bound, () => $"the server holds {Host.CountOpenFds() - fdsBefore} more descriptors");

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
        List<Socket> raw = ConnectRaw($"/proc/self/fd/{path.Number}", 1100);
        try
        {
            await WaitUntilAsync(() => raw.Count(IsOpen) < HolderCounts.PerPortPerProcess, () => $"{raw.Count(IsOpen)} of {raw.Count} raw holders kept");
            await WaitUntilAsync(() => Host.CountOpenFds() <= fdsBefore + HolderCounts.PerPortPerProcess, () => $"the server holds {Host.CountOpenFds() - fdsBefore} more descriptors");

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

    /// <summary>The <c>/proc</c> paths of the port <c>O_PATH</c>s in <paramref name="pid"/>'s table whose listeners are not in this process.</summary>
    private static List<string> ServerPorts(int pid)
    {
        HashSet<string> ours = OwnListenerFiles();
        return [.. PortFiles(pid).Where(port => !ours.Contains(port.File[..^" (deleted)".Length])).Select(port => port.Fd)];
    }

    /// <summary>The files this process's listening sockets are bound to (/proc/net/unix: inode and path of each bound socket).</summary>
    private static HashSet<string> OwnListenerFiles()
    {
        HashSet<string> inodes = [];
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
            catch (IOException)
            {
            }
        }

        HashSet<string> files = [];
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && inodes.Contains(fields[6]))
            {
                files.Add(fields[7]);
            }
        }

        return files;
    }

    /// <summary>Port sockets' files (bound, then unlinked: "…/p.&lt;hex&gt; (deleted)") open in <paramref name="pid"/>.</summary>
    private static IEnumerable<(string Fd, string File)> PortFiles(int pid)
    {
        foreach (string fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string? target = null;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
            }

            if (target is not null && Path.GetFileName(target).StartsWith("p.", StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal))
            {
                yield return (fd, target);
            }
        }
    }

    /// <summary>Up to <paramref name="count"/> raw SEQPACKET sockets connected through <paramref name="path"/>, as a hostile holder makes them.</summary>
    private static List<Socket> ConnectRaw(string path, int count)
    {
        var sockets = new List<Socket>(count);
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { Blocking = false };
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                sockets.Add(socket);
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        return sockets;
    }

    /// <summary>Not turned away: the server keeps this connection (a refused one reads end-of-file).</summary>
    private static bool IsOpen(Socket socket) => !socket.Poll(0, SelectMode.SelectRead);

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> state)
    {
        long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"Still after {Patience.TotalSeconds} s: {state()}");
            await Task.Delay(50);
        }
    }
}
