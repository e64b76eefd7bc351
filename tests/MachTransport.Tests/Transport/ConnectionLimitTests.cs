using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Server;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>Connection limits per peer process and in all: one same-user client cannot take every connection.</summary>
[Trait("Category", "Hostile")]
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task A_peer_process_beyond_its_limit_is_refused_as_busy_until_one_of_its_connections_ends()
    {
        var endPoint = new MachEndPoint(TestEnvironment.UniqueServiceName("per-peer"));
        await using MachConnectionListener listener = MachConnectionListener.Bind(endPoint, new MachTransportOptions { MaxConnectionsPerPeerProcess = 2 }, NullLogger.Instance, TestMetrics.Server);
        MachChannel first = await ConnectAsync(endPoint);
        await using MachChannel second = await ConnectAsync(endPoint);

        MachConnectionRejectedException rejected = await Assert.ThrowsAsync<MachConnectionRejectedException>(() => ConnectAsync(endPoint));
        Assert.Equal(3, rejected.ReasonCode);
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
    [InlineData(20_000L, 6581)]
    [InlineData(1024L, 256)]
    [InlineData(100L, 1)]
    [InlineData(null, ConnectionBudget.Cap)]
    public void The_default_limit_follows_the_open_file_limit_with_headroom(long? openFiles, int expected)
        => Assert.Equal(expected, ConnectionBudget.FromOpenFileLimit(openFiles));

    [LinuxFact]
    public void The_default_limit_fits_this_process_open_file_limit()
        => Assert.True(new MachTransportOptions().MaxConnections * 3L < OpenFileLimit());

    private static long OpenFileLimit()
    {
        string line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? long.MaxValue : long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<MachChannel> ConnectAsync(MachEndPoint endPoint)
        => MachClientConnector.ConnectAsync(endPoint.ServiceName, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
}
