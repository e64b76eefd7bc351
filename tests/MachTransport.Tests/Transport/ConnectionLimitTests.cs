using System.Buffers;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach.Linux;
using MachTransport.Server;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>Connection limits per peer process and in all: one same-user client cannot take every connection.</summary>
[Trait("Category", "Hostile")]
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task APeerProcessBeyondItsLimitIsRefusedAsBusyUntilOneOfItsConnectionsEnds()
    {
        var endPoint = new MachEndPoint(TestEnvironment.UniqueServiceName("per-peer"));
        await using MachConnectionListener listener = MachConnectionListener.Bind(endPoint, new MachTransportOptions { MaxConnectionsPerPeerProcess = 2 }, NullLogger.Instance, TestMetrics.Server, MemoryPool<byte>.Shared);
        MachChannel first = await ConnectAsync(endPoint);
        await using MachChannel second = await ConnectAsync(endPoint);

        MachConnectionRejectedException rejected = await Assert.ThrowsAsync<MachConnectionRejectedException>(() => ConnectAsync(endPoint));
        Assert.Equal(MachRejectReason.ServerBusy, rejected.Reason);
        Assert.Contains("connection limit", rejected.Message, StringComparison.Ordinal);

        // The server frees the slot once it sees the client's port die.
        await first.DisposeAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            try
            {
                await using MachChannel third = await ConnectAsync(endPoint);
                break;
            }
            catch (MachConnectionRejectedException)
            {
                await Task.Delay(20, deadline.Token);
            }
        }
    }

    [Theory]
    [InlineData(20_000L, 2179)]
    [InlineData(1024L, 71)]
    [InlineData(100L, 1)]
    [InlineData(null, ConnectionBudget.Cap)]
    public void TheDefaultLimitFollowsTheOpenFileLimitWithHeadroom(long? openFiles, int expected)
        => Assert.Equal(expected, ConnectionBudget.FromOpenFileLimit(openFiles));

    [Theory]
    [InlineData(20_000L, ConnectionBudget.PeerProcessCap)]
    [InlineData(4096L, ConnectionBudget.PeerProcessCap)]
    [InlineData(1024L, ConnectionBudget.PeerProcessCap)]
    [InlineData(512L, 3)]
    [InlineData(null, ConnectionBudget.PeerProcessCap)]
    public void ThreePeerProcessesAtTheirDefaultLimitLeaveConnectionsToAFourth(long? openFiles, int perPeer)
    {
        var options = new MachTransportOptions { MaxConnections = ConnectionBudget.FromOpenFileLimit(openFiles) };
        Assert.Equal(perPeer, options.MaxConnectionsPerPeerProcess);
        Assert.True(options.MaxConnections - (3 * options.MaxConnectionsPerPeerProcess) >= options.MaxConnections / 4);
        Assert.True((options.MaxConnections * (long)ConnectionBudget.DescriptorsPerConnection) + DescriptorBudget.Reserve < (openFiles ?? long.MaxValue));
    }

    [Fact]
    public void APerPeerLimitSetExplicitlyIsKept()
        => Assert.Equal(7, new MachTransportOptions { MaxConnectionsPerPeerProcess = 7, MaxConnections = 100 }.MaxConnectionsPerPeerProcess);

    [LinuxFact]
    public async Task ThreeGreedyPeerProcessesLeaveTheServerToAFourth()
    {
        const int OpenFiles = 1024;
        int perPeer = ConnectionBudget.PerPeerProcess(ConnectionBudget.FromOpenFileLimit(OpenFiles));
        await using TransportHost host = await TransportHost.StartLimitedAsync("greedy", OpenFiles);
        var greedy = new List<ChildProcess>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                ChildProcess peer = ChildProcess.Start("MachTransport.MachPeer", "greedy", host.Service);
                greedy.Add(peer);
                Assert.Equal($"CONNECTED {perPeer}", await peer.ReadLineAsync(TimeSpan.FromSeconds(60)));
            }

            using HttpClient fourth = host.CreateClient();
            Assert.Equal("hello HTTP/2", await fourth.GetStringAsync("/hello"));
            Assert.False(host.HasExited, "the server died");
        }
        finally
        {
            foreach (ChildProcess peer in greedy)
            {
                await peer.DisposeAsync();
            }
        }
    }

    [LinuxFact]
    public void TheDefaultLimitFitsThisProcessOpenFileLimit()
        => Assert.True(new MachTransportOptions().MaxConnections * (long)ConnectionBudget.DescriptorsPerConnection < OpenFileLimit());

    [LinuxFact]
    public async Task TheDescriptorCostTheDefaultLimitAssumesCoversWhatAConnectionHoldsOnTheServer()
    {
        const int Connections = 40;
        // The runtime maps each assembly it loads (2 descriptors) whenever it first needs it: a few may come during the count.
        const int RuntimeSlack = 6;
        await using TransportHost host = await TransportHost.StartAsync("fdcost", "--per-peer", $"{Connections}");
        var factory = new MachConnectionFactory();
        var endPoint = new MachEndPoint(host.Service);
        await using (Stream warmUp = await factory.ConnectStreamAsync(endPoint))
        {
            await host.WaitForStatsAsync(s => s["active"] == 1); // the listener's own one-time descriptors exist now
        }

        await host.WaitForStatsAsync(s => s["active"] == 0);
        int before = host.CountOpenFds();
        var streams = new List<Stream>();
        for (int i = 0; i < Connections; i++)
        {
            streams.Add(await factory.ConnectStreamAsync(endPoint));
        }

        await host.WaitForStatsAsync(s => s["active"] == Connections);
        int added = host.CountOpenFds() - before;
        foreach (Stream stream in streams)
        {
            await stream.DisposeAsync();
        }

        // One descriptor more per connection than the budget assumes would be 40 more than this allows.
        Assert.InRange(added, Connections, (Connections * ConnectionBudget.DescriptorsPerConnection) + RuntimeSlack);
    }

    [LinuxFact]
    public async Task TheDescriptorCostCoversAConnectionThatCarriedOutOfLineDataBothWays()
    {
        // Out of line both ways, each side keeps its own ring parked and the ring the other side brought parked too
        // (docs/linux-emulation.md, "Out-of-line memory"): an HTTP/2 echo of 256 KiB per connection, whose request the
        // client gathers into out-of-line messages and whose response Kestrel writes in large batches.
        const int Connections = 40;
        const int RuntimeSlack = 6;
        byte[] body = new byte[256 * 1024];
        Random.Shared.NextBytes(body);
        await using TransportHost host = await TransportHost.StartAsync("fdcost-ool", "--per-peer", $"{Connections}");
        using (HttpClient warmUp = host.CreateClient())
        {
            await EchoAsync(warmUp, body); // the listener's and Kestrel's own one-time descriptors exist after this
        }

        await host.WaitForStatsAsync(s => s["active"] == 0);
        int before = host.CountOpenFds();
        var clients = new List<HttpClient>();
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                HttpClient client = host.CreateClient(); // a handler of its own: a connection of its own
                clients.Add(client);
                await EchoAsync(client, body);
            }

            await host.WaitForStatsAsync(s => s["active"] == Connections);
            int added = host.CountOpenFds() - before;
            Assert.InRange(added, Connections, (Connections * ConnectionBudget.DescriptorsPerConnection) + RuntimeSlack);
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }

    private static async Task EchoAsync(HttpClient client, byte[] body)
    {
        using HttpResponseMessage response = await client.PostAsync("/echo", new ByteArrayContent(body)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    private static long OpenFileLimit()
    {
        string line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? long.MaxValue : long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<MachChannel> ConnectAsync(MachEndPoint endPoint)
        => MachClientConnector.ConnectAsync(endPoint.ServiceName, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
}
