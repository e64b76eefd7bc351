using MachTransport.Channel;
using MachTransport.Client;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>
/// Issue 20 item 9: a server stopped while hostile peers still hold connections logs nothing above Warning. Kestrel
/// gives requests the shutdown timeout, aborts the connections, waits one more second, then disposes the listener even
/// when a handler (here /wait, which ignores RequestAborted) keeps a connection's processing alive. Whatever the
/// listener's disposal does to those connections must not make Kestrel log at Error or Critical (its HTTP/2 frame
/// writer logs Critical once per stream when the transport's output throws under it).
/// </summary>
[Trait("Category", "Hostile")]
public sealed class ShutdownLogTests
{
    private const string Http1 = ".h1";

    [LinuxFact]
    public async Task AServerStoppedUnderHostilePeersLogsNothingAboveWarning()
    {
        await using TransportHost host = await TransportHost.StartAsync("shutdown-log", "--shutdown", "2", "--per-peer", "64");
        var kept = new List<MachChannel>();
        try
        {
            // Responses that never end, with HTTP/2's windows open and no CREDIT ever: the server's output is full.
            kept.Add(await OpenAsync(host, Http2Bytes.Get("/infinite", openWindows: true, streams: 10)));
            // Requests that outlive the abort (the handler ignores RequestAborted), alone and beside stalled streams.
            kept.Add(await OpenAsync(host, Http2Bytes.Get("/wait?ms=60000")));
            kept.Add(await OpenAsync(host, Http2Bytes.Get(["/wait?ms=60000", "/infinite", "/infinite", "/infinite", "/infinite", "/infinite"], openWindows: true)));
            kept.Add(await OpenAsync(host, Http2Bytes.Get("/hang")));
            // HTTP/1.1: a response never read, and a request that outlives the abort.
            kept.Add(await OpenAsync(host, Http1Get("/infinite"), Http1));
            kept.Add(await OpenAsync(host, Http1Get("/wait?ms=60000"), Http1));
            await host.WaitForStatsAsync(s => s["waiting"] == 4, TimeSpan.FromSeconds(60));

            string log = await host.StopAndReadLogAsync();
            Assert.DoesNotContain("crit:", log, StringComparison.Ordinal);
            Assert.DoesNotContain("fail:", log, StringComparison.Ordinal);
        }
        finally
        {
            foreach (MachChannel channel in kept)
            {
                channel.Abort("the hostile peer leaves");
                await channel.DisposeAsync();
            }
        }
    }

    private static byte[] Http1Get(string path) => System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");

    private static async Task<MachChannel> OpenAsync(TransportHost host, byte[] bytes, string suffix = "")
    {
        MachChannel channel = await MachClientConnector.ConnectAsync(host.Service + suffix, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await channel.Output.WriteAsync(bytes);
        return channel;
    }
}
