using System.Diagnostics;
using MachTransport.Channel;
using MachTransport.Client;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using MachTransport.Tests.MachLayer;
using Xunit;

namespace MachTransport.Tests.Protocol;

/// <summary>
/// docs/protocol.md, "Data, flow control, close": windows announced in the handshake, credit debited before each DATA,
/// CREDIT sent when the owed amount reaches a quarter of the window. A raw peer counts what the server channel sends.
/// </summary>
[Trait("Category", "Protocol")]
public sealed class FlowControlTests
{
    // Server read window: 4096 bytes (a quarter is 1024) and 32 messages (half the queue; a quarter is 8).
    private static MachTransportOptions SmallWindow => new() { Limits = { MaxReadBufferSize = 4096, QueueLimit = 64 } };

    [Fact]
    public async Task TheServerAnnouncesItsReadWindowInAccept()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(SmallWindow);
        Assert.Equal(new MachWindow(4096, 32, MachProtocol.MaxInlinePayload), peer.ServerWindow);
    }

    [Fact]
    public async Task ConsumedBytesAreGrantedBackOnceTheyReachAQuarterOfTheWindow()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(SmallWindow);
        peer.SendData(1000);
        await PipeReads.ConsumeAsync(peer.Server.Input, 1000); // 1000 < 1024 owed: no CREDIT yet
        peer.SendData(24);
        await PipeReads.ConsumeAsync(peer.Server.Input, 24);

        // Had a CREDIT gone out after the first 1000 bytes, it would be the first message here.
        ReceivedMessage credit = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Credit, credit.Header.Id);
        Assert.Equal([1024u, 2u], [RawPeer.Word(credit.Body, 0), RawPeer.Word(credit.Body, 1)]);
    }

    [Fact]
    public async Task DequeuedMessagesAreGrantedBackOnceTheyReachAQuarterOfTheWindowEvenUnread()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(SmallWindow);
        for (int i = 0; i < 8; i++)
        {
            peer.SendData(1); // nobody reads: bytes stay owed, messages are owed as the receive thread dequeues them
        }

        ReceivedMessage credit = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Credit, credit.Header.Id);
        Assert.Equal([0u, 8u], [RawPeer.Word(credit.Body, 0), RawPeer.Word(credit.Body, 1)]);
    }

    [Fact]
    public async Task ASideWhoseApplicationStoppedReadingGrantsOnArrival()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(SmallWindow);
        await peer.Server.Input.CompleteAsync();
        peer.SendData(1024);

        ReceivedMessage credit = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Credit, credit.Header.Id);
        Assert.Equal([1024u, 1u], [RawPeer.Word(credit.Body, 0), RawPeer.Word(credit.Body, 1)]);
    }

    [Fact]
    public async Task TheSenderStopsAtTheByteWindowThePeerAnnouncedAndResumesOnCredit()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(byteWindow: 4096, messageWindow: 4);
        using var stalls = new MetricCollector<long>(peer.Host.Meter, "machtransport.credit.stalls");
        await peer.Server.Output.WriteAsync(new byte[10_000]);

        Assert.Equal(4096u, await ReceiveDataLengthAsync(peer));
        await stalls.WaitForMeasurementsAsync(1, ProtocolServer.Bound);
        Assert.True(peer.IsQuiet()); // stalled with everything it sent already queued: not a byte beyond the window

        peer.SendCredit(3000, 1);
        Assert.Equal(3000u, await ReceiveDataLengthAsync(peer));
        await stalls.WaitForMeasurementsAsync(2, ProtocolServer.Bound);
        Assert.True(peer.IsQuiet());

        peer.SendCredit(2904, 1);
        Assert.Equal(2904u, await ReceiveDataLengthAsync(peer));
    }

    [Fact]
    public async Task TheSenderStopsAtTheMessageWindowThePeerAnnouncedAndResumesOnCredit()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(messageWindow: 2);
        using var stalls = new MetricCollector<long>(peer.Host.Meter, "machtransport.credit.stalls");
        for (int i = 0; i < 2; i++)
        {
            await peer.Server.Output.WriteAsync(new byte[100]);
            Assert.Equal(100u, await ReceiveDataLengthAsync(peer));
        }

        await peer.Server.Output.WriteAsync(new byte[100]);
        await stalls.WaitForMeasurementsAsync(1, ProtocolServer.Bound);
        Assert.True(peer.IsQuiet()); // bytes to spare, but no message credit

        peer.SendCredit(200, 2);
        Assert.Equal(100u, await ReceiveDataLengthAsync(peer));
    }

    [Fact]
    public async Task TheSenderKeepsNoMoreInFlightThanItsOwnWindowHoweverLargeThePeersIs()
    {
        // The peer announces the largest windows allowed; the server's own are 4096 bytes and 32 messages.
        await using RawPeer peer = await RawPeer.ConnectAsync(SmallWindow, byteWindow: MachProtocol.MaxByteWindow, messageWindow: MachProtocol.MaxMessageWindow);
        using var stalls = new MetricCollector<long>(peer.Host.Meter, "machtransport.credit.stalls");
        await peer.Server.Output.WriteAsync(new byte[10_000]);

        Assert.Equal(4096u, await ReceiveDataLengthAsync(peer));
        await stalls.WaitForMeasurementsAsync(1, ProtocolServer.Bound);
        Assert.True(peer.IsQuiet());

        peer.SendCredit(4096, 1);
        Assert.Equal(4096u, await ReceiveDataLengthAsync(peer));
    }

    [Fact]
    public async Task CreditIsGrantedAtAQuarterOfThePeersWindowWhenItIsTheSmaller()
    {
        // The server's window is 1 MiB; the peer's 4096 bytes, all it will keep in flight: a quarter is 1024.
        await using RawPeer peer = await RawPeer.ConnectAsync(byteWindow: 4096);
        peer.SendData(1024);
        await PipeReads.ConsumeAsync(peer.Server.Input, 1024);

        ReceivedMessage credit = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Credit, credit.Header.Id);
        Assert.Equal([1024u, 1u], [RawPeer.Word(credit.Body, 0), RawPeer.Word(credit.Body, 1)]);
    }

    [Fact]
    public async Task TwoRealChannelsWithDifferentWindowsMoveFarMoreThanBothBothWays()
    {
        var server = new MachTransportOptions { Limits = { MaxReadBufferSize = 4096, QueueLimit = 4 } };
        await using ChannelPair pair = await ChannelPair.OpenAsync(server, new MachClientOptions { Limits = { MaxReadBufferSize = 1 << 20 } });
        byte[] payload = new byte[256 * 1024];
        Random.Shared.NextBytes(payload);

        Task<byte[]> atServer = PipeReads.ReadToEndAsync(pair.Server.Input);
        Task<byte[]> atClient = PipeReads.ReadToEndAsync(pair.Client.Input);
        await pair.Client.Output.WriteAsync(payload);
        await pair.Client.Output.CompleteAsync();
        await pair.Server.Output.WriteAsync(payload);
        await pair.Server.Output.CompleteAsync();

        Assert.Equal(payload, await atServer.WaitAsync(ProtocolServer.Bound));
        Assert.Equal(payload, await atClient.WaitAsync(ProtocolServer.Bound));
    }

    [Fact]
    public async Task TwoRealChannelsMoveFarMoreThanBothWindowsBothWays()
    {
        var small = new MachTransportOptions { Limits = { MaxReadBufferSize = 4096, QueueLimit = 4 } };
        await using ChannelPair pair = await ChannelPair.OpenAsync(small, new MachClientOptions { Limits = { MaxReadBufferSize = 4096, QueueLimit = 4 } });
        byte[] payload = new byte[256 * 1024];
        Random.Shared.NextBytes(payload);

        Task<byte[]> atServer = PipeReads.ReadToEndAsync(pair.Server.Input);
        Task<byte[]> atClient = PipeReads.ReadToEndAsync(pair.Client.Input);
        await pair.Client.Output.WriteAsync(payload);
        await pair.Client.Output.CompleteAsync();
        await pair.Server.Output.WriteAsync(payload);
        await pair.Server.Output.CompleteAsync();

        Assert.Equal(payload, await atServer.WaitAsync(ProtocolServer.Bound));
        Assert.Equal(payload, await atClient.WaitAsync(ProtocolServer.Bound));
    }

    [Fact]
    public async Task APeerThatGrantsNoCreditIsClosedAfterTheStallTimeoutAndAnIdleOrReadingBystanderIsNot()
    {
        var stallTimeout = TimeSpan.FromSeconds(2);
        await using RawPeer peer = await RawPeer.ConnectAsync(new MachTransportOptions { Limits = { CreditStallTimeout = stallTimeout } }, byteWindow: 4096, messageWindow: 4);
        await using MachChannel bystander = await MachClientConnector.ConnectAsync(peer.Host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(ProtocolServer.Bound);
        MachChannel bystanderAtServer = await peer.Host.AcceptAsync();

        long start = Stopwatch.GetTimestamp();
        await peer.Server.Output.WriteAsync(new byte[10_000]);
        Assert.Equal(4096u, await ReceiveDataLengthAsync(peer)); // the window, then no CREDIT ever comes

        ReceivedMessage abort = await peer.ReceiveAsync();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        Assert.Equal(MachProtocol.Abort, abort.Header.Id);
        Assert.Equal((uint)MachCloseReason.Stalled, RawPeer.Word(abort.Body, 0));
        Assert.InRange(elapsed, stallTimeout, stallTimeout + ProtocolServer.Bound);
        Assert.Contains(peer.Host.Log.Collector.GetSnapshot(), r => r.Id.Name == "PeerStalled" && r.Level == LogLevel.Debug);
        await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await peer.Server.Input.ReadAsync().AsTask().WaitAsync(ProtocolServer.Bound));

        // The bystander sat idle for longer than the timeout (nothing to send is no stall) and now moves far more than
        // its window both ways while reading: its credit flows, nothing closes it.
        byte[] payload = new byte[3 << 20];
        Task toClient = bystanderAtServer.Output.WriteAsync(payload).AsTask();
        Task toServer = bystander.Output.WriteAsync(payload).AsTask();
        await PipeReads.ConsumeAsync(bystander.Input, payload.Length);
        await PipeReads.ConsumeAsync(bystanderAtServer.Input, payload.Length);
        await Task.WhenAll(toClient, toServer).WaitAsync(ProtocolServer.Bound);
    }

    [Fact]
    public async Task APeerThatTakesNoMessageFromItsFullQueueIsClosedAfterTheStallTimeout()
    {
        // The largest windows, on both sides, and the peer never receives: inline DATA fills its queue (the socket's
        // buffer, on Linux) long before the windows run out. Small writes keep every message inline.
        var stallTimeout = TimeSpan.FromSeconds(2);
        var options = new MachTransportOptions { Limits = { CreditStallTimeout = stallTimeout, MaxWriteBufferSize = 32 * 1024, MaxReadBufferSize = MachProtocol.MaxByteWindow } };
        await using RawPeer peer = await RawPeer.ConnectAsync(options, byteWindow: MachProtocol.MaxByteWindow, messageWindow: MachProtocol.MaxMessageWindow);
        long start = Stopwatch.GetTimestamp();
        Task write = WriteInChunksAsync(peer.Server.Output, MachProtocol.MaxByteWindow, chunk: 16 * 1024);

        await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await peer.Server.Input.ReadAsync().AsTask().WaitAsync(stallTimeout + ProtocolServer.Bound));
        Assert.InRange(Stopwatch.GetElapsedTime(start), stallTimeout, stallTimeout + ProtocolServer.Bound);
        Assert.Contains(peer.Host.Log.Collector.GetSnapshot(), r => r.Id.Name == "PeerStalled" && r.Message.Contains("took no message", StringComparison.Ordinal));
        await write.WaitAsync(ProtocolServer.Bound); // the application's writes are released, not left waiting
    }

    private static async Task WriteInChunksAsync(System.IO.Pipelines.PipeWriter output, long total, int chunk)
    {
        byte[] bytes = new byte[chunk];
        for (long written = 0; written < total; written += chunk)
        {
            if ((await output.WriteAsync(bytes)).IsCompleted)
            {
                return;
            }
        }
    }

    private static async Task<uint> ReceiveDataLengthAsync(RawPeer peer)
    {
        ReceivedMessage data = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Data, data.Header.Id);
        return RawPeer.Word(data.Body, 0);
    }
}
