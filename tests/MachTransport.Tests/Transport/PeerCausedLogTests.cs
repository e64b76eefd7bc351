using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Tests.Protocol;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>
/// Issue 16 item 14: nothing a hostile peer does makes the server log above Warning. Against the test host (its log at
/// Warning and above on stderr), peers over HTTP/2 and HTTP/1.1 stall with data queued, leave mid-request or
/// mid-stall, half-close, send HTTP and Mach garbage, connect and leave, and die; the host then collects its garbage, so that Kestrel's heartbeat would
/// report a connection whose processing was dropped unfinished (ApplicationNeverCompleted, at Critical). Every
/// connection ends, a bystander is served throughout, and the log has no line at Error or Critical.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class PeerCausedLogTests
{
    private const int EachKind = 4;
    private const string Http1 = ".h1";

    [LinuxFact]
    public async Task NothingAHostilePeerDoesIsLoggedAboveWarning()
    {
        // A 2 s stall timeout, so that stalls end within the test; this process opens more than the default 16 connections.
        await using TransportHost host = await TransportHost.StartAsync("peer-log", "--stall", "2", "--per-peer", "64");
        using HttpClient bystander = host.CreateClient();
        Assert.Equal("hello HTTP/2", await bystander.GetStringAsync("/hello"));
        long activeBefore = (await host.StatsAsync())["active"];
        string[] garbage = [.. ProtocolGarbage.Kinds.Select(static (object[] row) => (string)row[0])];

        // A client process killed inside its request.
        await using (ChildProcess client = ChildProcess.Start("MachTransport.TestHost", "client", host.Service, "/hang"))
        {
            await host.WaitForStatsAsync(s => s["waiting"] == 1, TimeSpan.FromSeconds(60));
            await client.KillAsync();
        }

        var kept = new List<MachChannel>();
        try
        {
            for (int i = 0; i < EachKind; i++)
            {
                // Stalls: responses that never end with HTTP/2's windows open, and no CREDIT ever. Kept past the stall timeout.
                kept.Add(await OpenAsync(host, Http2Bytes.Get("/infinite", openWindows: true, streams: 10)));
                // The same, left before the stall timeout.
                await LeaveAsync(await OpenAsync(host, Http2Bytes.Get("/bytes?n=100000000&seed=1", openWindows: true)));
                // Requests inside their handler, left at once or kept until the end.
                await LeaveAsync(await OpenAsync(host, Http2Bytes.Get("/hang")));
                kept.Add(await OpenAsync(host, Http2Bytes.Get("/hang")));
                // Half-closed with a response that never ends.
                MachChannel halfClosed = await OpenAsync(host, Http2Bytes.Get("/infinite"));
                await halfClosed.Output.CompleteAsync();
                kept.Add(halfClosed);
                // HTTP/2 garbage, and Mach garbage on a connection port.
                kept.Add(await OpenAsync(host, [.. Http2Bytes.Get("/hello"), .. Http2Bytes.Garbage]));
                MachChannel victim = await OpenAsync(host, Http2Bytes.Get("/hang"));
                _ = ProtocolGarbage.Send(garbage[i % garbage.Length], victim.PeerPortName);
                kept.Add(victim);
                // Connected and gone, with nothing sent.
                await LeaveAsync(await OpenAsync(host, []));
                // HTTP/1.1: a response that never ends, never read (left, or kept past the stall timeout), and garbage.
                await LeaveAsync(await OpenAsync(host, Http1Get("/infinite"), Http1));
                kept.Add(await OpenAsync(host, Http1Get("/infinite"), Http1));
                kept.Add(await OpenAsync(host, [.. Http1Get("/hang"), .. "\0\r\n garbage\r\n\r\n"u8], Http1));
            }

            await host.CollectGarbageAsync();
            Assert.Equal("hello HTTP/2", await bystander.GetStringAsync("/hello"));
        }
        finally
        {
            foreach (MachChannel channel in kept)
            {
                await LeaveAsync(channel);
            }
        }

        // Every hostile connection ends (a connection dropped unfinished would never leave Kestrel's count).
        await host.WaitForStatsAsync(s => s["active"] == activeBefore && s["waiting"] == 0, TimeSpan.FromSeconds(60));
        await host.CollectGarbageAsync();
        Assert.Equal("hello HTTP/2", await bystander.GetStringAsync("/hello"));

        string log = await host.StopAndReadLogAsync();
        Assert.DoesNotContain("crit:", log, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", log, StringComparison.Ordinal);
    }

    private static byte[] Http1Get(string path) => System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");

    private static async Task<MachChannel> OpenAsync(TransportHost host, byte[] bytes, string suffix = "")
    {
        MachChannel channel = await MachClientConnector.ConnectAsync(host.Service + suffix, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        if (bytes.Length > 0)
        {
            await channel.Output.WriteAsync(bytes);
        }

        return channel;
    }

    private static async Task LeaveAsync(MachChannel channel)
    {
        channel.Abort("the hostile peer leaves");
        await channel.DisposeAsync();
    }
}
