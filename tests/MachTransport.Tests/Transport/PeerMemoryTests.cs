using System.Globalization;
using MachTransport.Channel;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using MachTransport.Tests.Protocol;
using Xunit;
using Xunit.Abstractions;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

/// <summary>
/// What one peer process can make a server hold (docs/protocol.md, "Bounds per peer"): this process opens its quota of
/// connections (16 by default), asks on each for responses that never end with HTTP/2's windows wide open, and then
/// neither receives on its ports nor grants CREDIT. Once the server stalls, what it holds for this peer is its own
/// growth (resident memory: Kestrel's buffers and the transport's pipes) plus what it sent that this peer left in
/// flight (socket buffers and sealed memfds, which are nobody's resident memory): at most 64 MiB by default.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class PeerMemoryTests(ITestOutputHelper output)
{
    private const int Connections = 16;
    private const long Bound = 64 << 20;
    private const int ReceiveBufferSize = MachProtocol.ReceiveBufferSize + 64;

    [LinuxTheory]
    [InlineData(1)]
    [InlineData(100)] // Kestrel's default limit of streams a connection
    public async Task APeerProcessWhoseConnectionsAllStallMakesTheServerHoldAtMost64MiB(int streams)
    {
        await using TransportHost host = await TransportHost.StartAsync("peer-memory", "--stall", "300");
        using (var tcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.TcpPort}") })
        {
            _ = await tcp.GetByteArrayAsync("/bytes?n=10000000&seed=1"); // the server's code paths warmed up
        }

        Memory before = Memory.Of(host.Pid);
        var peers = new List<(MachReceiveRight Port, MachSendRight Connection)>();
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                peers.Add(await ConnectAsync(host.Service));
                byte[] request = Http2Bytes.Get("/infinite", openWindows: true, streams);
                for (int at = 0; at < request.Length; at += MachProtocol.MaxInlinePayload)
                {
                    byte[] chunk = request[at..Math.Min(request.Length, at + MachProtocol.MaxInlinePayload)];
                    Assert.Equal(MachMsgReturn.Success, Send(peers[^1].Connection.Name, MachMsgTypeName.CopySend, MachProtocol.Data, [.. RawPeer.Words((uint)chunk.Length), .. chunk]));
                }
            }

            Memory stalled = await SettledAsync(host.Pid);
            long inFlight = 0;
            foreach ((MachReceiveRight port, _) in peers)
            {
                inFlight += Drain(port);
            }

            long grown = stalled.Rss - before.Rss;
            string measured = string.Create(CultureInfo.InvariantCulture,
                $"{Connections} connections x {streams} streams: server VmRSS {before.Rss >> 20} -> {stalled.Rss >> 20} MiB (+{grown >> 20}, RssAnon +{(stalled.Anon - before.Anon) >> 20}), in flight to this peer {inFlight >> 10} KiB; held {(grown + inFlight) >> 20} MiB");
            output.WriteLine(measured);

            // In flight: no more than the window, R (Limits.MaxReadBufferSize), a connection, whatever the peer announced.
            Assert.True(inFlight <= Connections * new MachConnectionLimits().MaxReadBufferSize, measured);
            Assert.True(grown + inFlight <= Bound, measured);
        }
        finally
        {
            foreach ((MachReceiveRight port, MachSendRight connection) in peers)
            {
                connection.Dispose();
                port.Dispose();
            }
        }
    }

    private static async Task<(MachReceiveRight, MachSendRight)> ConnectAsync(string service)
    {
        MachReceiveRight port = MachReceiveRight.Allocate(Kernel);
        port.SetQueueLimit(MachPort.QueueLimitMax);
        using (MachSendRight servicePort = MachBootstrap.LookUp(Kernel, service))
        {
            // The largest window the protocol allows: the server keeps no more than its own in flight anyway.
            byte[] body = RawPeer.Words(MachProtocol.Version, MachProtocol.Version, MachProtocol.MaxByteWindow, MachProtocol.MaxMessageWindow, MachProtocol.MaxInlinePayload);
            Assert.Equal(MachMsgReturn.Success, Send(servicePort.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, body,
                attachments: [Attachment.Port(port.Name, MachMsgTypeName.MakeSend)]));
        }

        ReceivedMessage accept = await Task.Run(() => Receive(port.Name));
        Assert.Equal(MachProtocol.Accept, accept.Header.Id);
        return (port, new MachSendRight(Kernel, accept.Descriptors[0].Name));
    }

    /// <summary>Receives everything queued on <paramref name="port"/>; the DATA bytes that were in flight.</summary>
    private static long Drain(MachReceiveRight port)
    {
        long bytes = 0;
        while (true)
        {
            ReceivedMessage message = Receive(port.Name, timeoutMilliseconds: 0, ReceiveBufferSize);
            if (message.Result != MachMsgReturn.Success)
            {
                return bytes;
            }

            foreach (MachDescriptor descriptor in message.Descriptors.Where(d => d.Type == MachMsgDescriptorType.Ool && d.Address != 0))
            {
                new MachOolRegion(Kernel, descriptor.Address, descriptor.Size).Dispose();
            }

            bytes += message.Header.Id == MachProtocol.Data ? RawPeer.Word(message.Body, 0) : 0;
        }
    }

    /// <summary>The server's memory once it stopped growing: three reads half a second apart within 1 MiB.</summary>
    private static async Task<Memory> SettledAsync(int pid)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Memory last = Memory.Of(pid);
        int steady = 0;
        while (steady < 3)
        {
            await Task.Delay(500, deadline.Token);
            Memory now = Memory.Of(pid);
            steady = Math.Abs(now.Rss - last.Rss) < 1 << 20 ? steady + 1 : 0;
            last = now;
        }

        return last;
    }

    private readonly record struct Memory(long Rss, long Anon)
    {
        public static Memory Of(int pid) => new(Kilobytes(pid, "VmRSS:"), Kilobytes(pid, "RssAnon:"));

        private static long Kilobytes(int pid, string key)
        {
            string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(key, StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
    }
}
