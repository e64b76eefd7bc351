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
            _ = Libc.close(pipe.ReadEnd); // the server's copy is the last: its close waits for the pipe's lock
            sent = SendRefusedDescriptors(sendEnd, Flood);
        }

        Assert.True(sent > 0, "no flood datagram could be sent");
        await WaitForFdsBelowAsync(host, OpenFileLimit / 2);

        using HttpClient fresh = host.CreateClient();
        Assert.Equal("hello HTTP/2", await fresh.GetStringAsync("/hello").WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(host.HasExited, "the server died");
        pipe.Release();
    }

    /// <summary>Waits (bounded) until the server holds fewer than <paramref name="bound"/> descriptors.</summary>
    private static async Task WaitForFdsBelowAsync(TransportHost host, int bound)
    {
        long deadline = Environment.TickCount64 + 30_000;
        int open;
        while ((open = host.CountOpenFds()) >= bound && Environment.TickCount64 < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(open < bound, $"the server holds {open} of {OpenFileLimit} descriptors");
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
