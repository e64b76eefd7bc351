using System.Security.Cryptography;
using MachTransport.Channel;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using MachTransport.Tests.MachLayer;
using Xunit;

namespace MachTransport.Tests.Protocol;

/// <summary>
/// docs/protocol.md, "Messages" and "Untrusted input": DATA inline up to the threshold (and the peer's max_inline),
/// out of line above it; every shape outside the protocol closes that connection with ABORT(5) and a logged reason.
/// </summary>
[Trait("Category", "Protocol")]
public sealed class DataShapeTests
{
    [Fact]
    public async Task DataGoesInlineUpToTheThresholdAndOutOfLineAboveItBothWays()
    {
        // The server sends inline up to 1024 bytes, the client up to 2048; the server's meter sees both directions.
        // Random payloads, compared byte for byte: zeros would let a wrong offset or a short copy pass.
        await using ChannelPair pair = await ChannelPair.OpenAsync(new MachTransportOptions { Limits = { InlineThreshold = 1024 } }, new MachClientOptions { Limits = { InlineThreshold = 2048 } });
        using var sent = new MetricCollector<long>(pair.Host.Meter, "machtransport.bytes.sent");
        using var received = new MetricCollector<long>(pair.Host.Meter, "machtransport.bytes.received");
        using var oolBytes = new MetricCollector<long>(pair.Host.Meter, "machtransport.bytes.ool");

        foreach (int length in new[] { 1024, 1025 })
        {
            byte[] payload = RandomNumberGenerator.GetBytes(length);
            await pair.Server.Output.WriteAsync(payload);
            Assert.Equal(payload, await PipeReads.ReadExactlyAsync(pair.Client.Input, length));
        }

        foreach (int length in new[] { 2048, 2049 })
        {
            byte[] payload = RandomNumberGenerator.GetBytes(length);
            await pair.Client.Output.WriteAsync(payload);
            Assert.Equal(payload, await PipeReads.ReadExactlyAsync(pair.Server.Input, length));
        }

        await sent.WaitForMeasurementsAsync(2, ProtocolServer.Bound);
        await received.WaitForMeasurementsAsync(2, ProtocolServer.Bound);
        await oolBytes.WaitForMeasurementsAsync(2, ProtocolServer.Bound); // recorded just after the bytes, maybe after the peer read them
        Assert.Equal([1024L, 1025L], sent.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal([2048L, 2049L], received.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal([1025L, 2049L], oolBytes.GetMeasurementSnapshot().Select(m => m.Value).Order()); // the send and receive threads record them
    }

    [Fact]
    public async Task AFlushWithinCreditReturnsOnlyOnceItsDataIsQueuedForThePeer()
    {
        // The send loop runs on the flushing thread (docs/performance.md, "A small call"): no thread-pool hop between
        // the application's flush and mach_msg, so the DATA is on the peer's port when the flush returns.
        await using RawPeer peer = await RawPeer.ConnectAsync();
        await peer.Server.Output.WriteAsync(new byte[16]); // the send loop starts on the pool: the first one may go from there
        Assert.Equal(MachProtocol.Data, (await peer.ReceiveAsync()).Header.Id);
        for (int i = 0; i < 8; i++)
        {
            await peer.Server.Output.WriteAsync(new byte[16]);
            Assert.False(peer.IsQuiet(), $"flush {i} returned before its DATA was sent");
        }
    }

    [Fact]
    public async Task DataAboveThePeersMaxInlineGoesOutOfLineAsOneRegionOfExactlyItsLength()
    {
        // The server's own threshold is 64 KiB; the peer accepts 4 KiB inline (the least it may announce).
        await using RawPeer peer = await RawPeer.ConnectAsync(maxInline: 4096);
        byte[] payload = RandomNumberGenerator.GetBytes(4096);
        await peer.Server.Output.WriteAsync(payload);
        ReceivedMessage inline = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Data, inline.Header.Id);
        Assert.False(inline.Header.IsComplex);
        Assert.Equal(4096u, RawPeer.Word(inline.Body, 0));
        Assert.Equal(4 + 4096, inline.Body.Length);
        Assert.Equal(payload, inline.Body.AsSpan(4).ToArray());

        await peer.Server.Output.WriteAsync(new byte[4097]);
        ReceivedMessage outOfLine = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Data, outOfLine.Header.Id);
        Assert.True(outOfLine.Header.IsComplex);
        MachDescriptor region = Assert.Single(outOfLine.Descriptors);
        Assert.Equal(MachMsgDescriptorType.Ool, region.Type);
        Assert.Equal(4097u, region.Size);
        Assert.Equal(4097u, RawPeer.Word(outOfLine.Body, 0));
        Assert.Equal(4, outOfLine.Body.Length);
        Assert.Equal(MachMsgTypeName.None, outOfLine.Header.RemoteDisposition); // no reply port on any message
    }

    [Fact]
    public async Task OutOfLineDataFromThePeerIsDeliveredAndCounted()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync();
        using var oolBytes = new MetricCollector<long>(peer.Host.Meter, "machtransport.bytes.ool");
        peer.SendOutOfLineData(5000);
        await PipeReads.ConsumeAsync(peer.Server.Input, 5000);
        await oolBytes.WaitForMeasurementsAsync(1, ProtocolServer.Bound);
        Assert.Equal(5000L, Assert.Single(oolBytes.GetMeasurementSnapshot()).Value);
    }

    [Theory]
    [MemberData(nameof(ProtocolGarbage.Kinds), MemberType = typeof(ProtocolGarbage))]
    public async Task GarbageClosesTheConnectionWithAbort5AndItsOwnReason(string kind)
    {
        await using RawPeer peer = await RawPeer.ConnectAsync();
        Assert.Equal(MachMsgReturn.Success, ProtocolGarbage.Send(kind, peer.ConnectionPort));
        await AssertClosedForViolationAsync(peer, ProtocolGarbage.Reason(kind));
    }

    [Fact]
    public async Task DataAfterFinIsAProtocolError()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync();
        peer.SendFin();
        ReadResultAtEnd(await peer.Server.Input.ReadAsync().AsTask().WaitAsync(ProtocolServer.Bound));
        peer.SendData(10);
        await AssertClosedForViolationAsync(peer, "DATA after FIN", inputAlreadyEnded: true);
    }

    [Fact]
    public async Task DataBeyondTheByteCreditIsAProtocolError()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(new MachTransportOptions { Limits = { MaxReadBufferSize = 4096 } });
        peer.SendData(4000); // unread: the 4000 bytes stay charged
        peer.SendData(97);
        await AssertClosedForViolationAsync(peer, "DATA of 97 bytes exceeds the credit (96 bytes", inputAlreadyEnded: false);
    }

    [Fact]
    public async Task DataOfZeroBytesIsAProtocolError()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync();
        peer.SendData(0);
        await AssertClosedForViolationAsync(peer, "inline DATA claiming 0 bytes");
    }

    private static void ReadResultAtEnd(System.IO.Pipelines.ReadResult result)
    {
        Assert.True(result.IsCompleted);
        Assert.True(result.Buffer.IsEmpty);
    }

    private static async Task AssertClosedForViolationAsync(RawPeer peer, string reason, bool inputAlreadyEnded = false)
    {
        ReceivedMessage abort = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Abort, abort.Header.Id);
        Assert.Equal((uint)MachCloseReason.ProtocolError, RawPeer.Word(abort.Body, 0));
        Assert.Contains(peer.Host.ProtocolErrors, logged => logged.Contains(reason, StringComparison.Ordinal));
        Assert.Single(peer.Host.ProtocolErrors);
        Assert.Equal(1, peer.Host.ProtocolErrorCount);
        if (!inputAlreadyEnded)
        {
            await Assert.ThrowsAsync<ConnectionResetException>(() => PipeReads.ReadToEndAsync(peer.Server.Input).WaitAsync(ProtocolServer.Bound));
        }
    }
}
