using MachTransport.Mach;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>
/// A server (the test host, in a child process with a small RLIMIT_NOFILE) driven to its descriptor limit by a hostile
/// peer, with closes it holds up (<see cref="LockedPipe"/>): the server stays up and serves a fresh client.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class DescriptorExhaustionTests
{
    private const int OpenFileLimit = 1024;
    private const int Flood = 12; // datagrams of 253 descriptors each: three times the host's whole table

    [LinuxFact]
    public async Task RefusedDescriptorsQueuedBehindAHeldUpCloseDoNotFillTheTable()
    {
        await using TransportHost host = await TransportHost.StartLimitedAsync("held-close", OpenFileLimit);
        using HttpClient client = host.CreateClient();
        Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello"));

        using var pipe = new LockedPipe();
        int sent;
        using MachSendRight service = MachBootstrap.LookUp(MachKernel.Current, host.Service);
        using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name))
        {
            Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.OneSendRight(), [pipe.ReadEnd]));
            pipe.LetGoOfReadEnd(); // the server's copy is the last: its close waits for the pipe's lock
            sent = SendRefusedDescriptors(sendEnd, Flood);
        }

        Assert.True(sent > 0, "no flood datagram could be sent");
        await WaitForFdsBelowAsync(host, OpenFileLimit / 2);

        await AFreshClientIsServedAsync(host);
        pipe.Release();
    }

    [LinuxFact]
    public async Task ASenderHoldingUpEveryClosingThreadLosesItsConnectionWhileOthersAreServed()
    {
        await using TransportHost host = await TransportHost.StartLimitedAsync("held-all", OpenFileLimit);
        var pipes = new List<LockedPipe>();
        try
        {
            for (int i = 0; i <= DeferredClose.MaxThreads; i++)
            {
                pipes.Add(new LockedPipe());
            }

            using MachSendRight service = MachBootstrap.LookUp(MachKernel.Current, host.Service);
            using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name))
            {
                // One refused datagram with every pipe: each closing thread in turn waits on one, the last one queues.
                Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.OneSendRight(), [.. pipes.Select(p => p.ReadEnd)]));
                foreach (LockedPipe pipe in pipes)
                {
                    pipe.LetGoOfReadEnd();
                }

                _ = SendRefusedDescriptors(sendEnd, Flood);
            }

            // This process's descriptors wait behind its own held-up closes: the server stops reading them.
            await WaitForFdsBelowAsync(host, OpenFileLimit - DescriptorBudget.Reserve);
            await AFreshClientIsServedAsync(host);
        }
        finally
        {
            foreach (LockedPipe pipe in pipes)
            {
                pipe.Dispose();
            }
        }

        await WaitForFdsBelowAsync(host, OpenFileLimit / 2);
        await AFreshClientIsServedAsync(host);
    }

    [LinuxFact]
    public async Task LookUpsWhileACloseIsHeldUpDoNotPileUp()
    {
        await using TransportHost host = await TransportHost.StartLimitedAsync("held-lookups", OpenFileLimit);
        using var pipe = new LockedPipe();
        using MachSendRight service = MachBootstrap.LookUp(MachKernel.Current, host.Service);
        using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name))
        {
            Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.OneSendRight(), [pipe.ReadEnd]));
            pipe.LetGoOfReadEnd();
        }

        int failed = 0;
        for (int i = 0; i < 3 * OpenFileLimit; i++)
        {
            if (MachKernel.Current.BootstrapLookUp(host.Service + ".h1", out uint right) == Mach.Abi.BootstrapStatus.Success)
            {
                _ = MachKernel.Current.Deallocate(right);
            }
            else
            {
                failed++;
            }
        }

        Assert.Equal(0, failed);
        await WaitForFdsBelowAsync(host, OpenFileLimit / 2);
        await AFreshClientIsServedAsync(host);
        pipe.Release();
    }

    [LinuxFact]
    public async Task PeersDrivingTheServerToItsLimitLeaveItUpAndItServesOnceTheyLeave()
    {
        // One process cannot get there any more (its connections and holders are bounded per process): greedy client
        // processes take every connection the server allows (the last ones get none), and this one adds raw holders on
        // every port.
        await using TransportHost host = await TransportHost.StartLimitedAsync("to-the-limit", OpenFileLimit);
        var greedy = new List<ChildProcess>();
        var holders = new List<System.Net.Sockets.Socket>();
        try
        {
            for (int i = 0; i < 6; i++)
            {
                ChildProcess peer = ChildProcess.Start("MachTransport.MachPeer", "greedy", host.Service);
                greedy.Add(peer);
                Assert.StartsWith("CONNECTED ", await peer.ReadLineAsync(TimeSpan.FromSeconds(60)));
            }

            foreach (string port in RawHolders.ServerPorts(host.Pid))
            {
                holders.AddRange(RawHolders.Connect(port, HolderCounts.PerPortPerProcess));
            }

            // The server takes descriptors up to the reserve; its runtime keeps what it needs (the TCP endpoint answers).
            await WaitForFdsAsync(host, open => open >= OpenFileLimit - DescriptorBudget.Reserve - 8);
            _ = await host.StatsAsync();
            // What the runtime took meanwhile (it maps each assembly it loads: 2 descriptors) comes out of the reserve.
            Assert.True(host.CountOpenFds() < OpenFileLimit, "the server's table is full");
        }
        finally
        {
            holders.ForEach(holder => holder.Dispose());
            foreach (ChildProcess peer in greedy)
            {
                await peer.DisposeAsync();
            }
        }

        await WaitForFdsBelowAsync(host, OpenFileLimit / 2);
        await AFreshClientIsServedAsync(host);

        // Nothing peers caused is logged above Warning (Kestrel logs Critical when a connection's processing throws,
        // e.g. for want of a descriptor), and the host stops cleanly.
        string log = await host.StopAndReadLogAsync();
        Assert.DoesNotContain("crit:", log, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", log, StringComparison.Ordinal);
    }

    [LinuxFact]
    public async Task AServerKilledWhileItsCloseIsHeldUpRestartsOnceTheSenderLetsGo()
    {
        TransportHost host = await TransportHost.StartLimitedAsync("held-restart", OpenFileLimit);
        string name = host.Service;
        try
        {
            using var pipe = new LockedPipe();
            using MachSendRight service = MachBootstrap.LookUp(MachKernel.Current, name);
            using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name))
            {
                Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.OneSendRight(), [pipe.ReadEnd]));
                pipe.LetGoOfReadEnd();
                _ = SendRefusedDescriptors(sendEnd, Flood);
            }

            // A thread waiting for the pipe's lock cannot die: SIGKILL completes only once the sender lets go.
            Task killed = host.KillAsync();
            pipe.Release();
            await killed;
        }
        finally
        {
            await host.DisposeAsync();
        }

        await using TransportHost restarted = await TransportHost.StartOnAsync(name);
        await AFreshClientIsServedAsync(restarted);
    }

    /// <summary>A client in a process of its own (this one may be the server's attacker) gets an answer over Mach.</summary>
    private static async Task AFreshClientIsServedAsync(TransportHost host)
    {
        await using ChildProcess client = ChildProcess.Start("MachTransport.TestHost", "client", host.Service, "/hello");
        Assert.Equal("200", await client.ReadLineAsync(TimeSpan.FromSeconds(60)));
        Assert.False(host.HasExited, "the server died");
    }

    private static Task WaitForFdsBelowAsync(TransportHost host, int bound) => WaitForFdsAsync(host, open => open < bound);

    /// <summary>Waits (bounded) until the number of descriptors the server holds meets <paramref name="condition"/>.</summary>
    private static async Task WaitForFdsAsync(TransportHost host, Func<int, bool> condition)
    {
        await Eventually.HoldsAsync(() => condition(host.CountOpenFds()), TimeSpan.FromSeconds(30), () => $"the server holds {host.CountOpenFds()} of {OpenFileLimit} descriptors");
        Assert.False(host.HasExited, "the server died");
    }

    /// <summary>
    /// Sends up to <paramref name="count"/> datagrams, each a bare header with 253 descriptors attached (refused: it
    /// declares none), until one cannot be sent (the server stopped reading this connection); returns how many went.
    /// </summary>
    private static int SendRefusedDescriptors(LinuxFd sendEnd, int count)
    {
        int devNull = Libc.open("/dev/null", Libc.O_CLOEXEC, 0);
        Assert.True(devNull >= 0);
        try
        {
            int[] attached = Enumerable.Repeat(devNull, Libc.ScmMaxFd).ToArray();
            for (int i = 0; i < count; i++)
            {
                if (SeqPacket.Send(sendEnd.Number, HostileDatagramTests.Simple(i), attached) != 0)
                {
                    return i;
                }
            }

            return count;
        }
        finally
        {
            _ = Libc.close(devNull);
        }
    }
}
