using System.Buffers;
using System.Reflection;
using System.Security.Cryptography;
using MachTransport.Channel;
using MachTransport.Tests.Transport;
using Xunit;

namespace MachTransport.Tests.Protocol;

/// <summary>
/// docs/performance.md, "Uploads out of line": the send loop gathers the frames of an HTTP/2 client's request body
/// while what it has ends in a full-size DATA frame without END_STREAM, until it would go out of line or the deadline
/// passes; anything else (another frame, a body's last frame, a stream that is not an HTTP/2 client's) goes at once.
/// The tests write HTTP/2 bytes through a server channel (the tracker follows any channel whose stream begins with the
/// client preface) to a raw peer that sees every message.
/// </summary>
[Trait("Category", "Protocol")]
public sealed class UploadGatherTests
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    [Fact]
    public async Task FullDataFramesAreGatheredIntoOneOutOfLineMessageAndTheLastFrameGoesAtOnce()
    {
        // A deadline that never passes here: whether frames wait is up to the framing and the sizes alone.
        await using RawPeer peer = await RawPeer.ConnectAsync(new MachTransportOptions { Limits = { UploadGatherDeadline = TimeSpan.FromHours(1) } });
        byte[] start = [.. Preface, .. Http2Bytes.Frame(type: 4, flags: 0, stream: 0, RandomNumberGenerator.GetBytes(6))]; // SETTINGS
        await peer.Server.Output.WriteAsync(start);
        Assert.Equal(start, (await peer.ReceiveDataAsync()).Payload);

        var gathered = new List<byte>();
        for (int i = 0; i < 4; i++)
        {
            byte[] frame = Http2Bytes.Frame(type: 0, flags: 0, stream: 1, RandomNumberGenerator.GetBytes(Http2UploadTracker.FullFrameSize));
            gathered.AddRange(frame);
            await peer.Server.Output.WriteAsync(frame);
            if (i < 3)
            {
                Assert.True(peer.IsQuiet(), $"frame {i} was sent before the body's next frame");
            }
        }

        (byte[] payload, bool outOfLine) = await peer.ReceiveDataAsync();
        Assert.True(outOfLine);
        Assert.Equal(gathered.ToArray(), payload); // 4 frames of 16,393 bytes: past the 64 KiB inline limit

        byte[] last = Http2Bytes.Frame(type: 0, flags: 1, stream: 1, RandomNumberGenerator.GetBytes(1001)); // END_STREAM
        await peer.Server.Output.WriteAsync(last);
        Assert.Equal(last, (await peer.ReceiveDataAsync()).Payload);
    }

    [Fact]
    public async Task AFullDataFrameFollowedByNothingGoesAtTheDeadline()
    {
        // A body whose next frame does not come (the writer waits for a WINDOW_UPDATE, or for the peer's reply): the
        // frame must not wait for more than the deadline, whatever else happens.
        await using RawPeer peer = await RawPeer.ConnectAsync();
        await peer.Server.Output.WriteAsync(Preface);
        Assert.Equal(Preface, (await peer.ReceiveDataAsync()).Payload);

        for (int round = 0; round < 3; round++)
        {
            byte[] frame = Http2Bytes.Frame(type: 0, flags: 0, stream: 1, RandomNumberGenerator.GetBytes(Http2UploadTracker.FullFrameSize));
            await peer.Server.Output.WriteAsync(frame);
            Assert.Equal(frame, (await peer.ReceiveDataAsync()).Payload);
        }
    }

    [Fact]
    public async Task ADeadlinesCancelThatArrivesAfterItsFlagWasSeenDoesNotEndTheSendLoop()
    {
        // The deadline sets its flag, then cancels the send loop's read: a read that came between the two saw the flag
        // and sent, so the next read returns cancelled with no flag. That must not be taken for an abort. Played here
        // by cancelling the output pipe's read directly (the field is the channel's own).
        await using RawPeer peer = await RawPeer.ConnectAsync();
        await peer.Server.Output.WriteAsync(Preface);
        Assert.Equal(Preface, (await peer.ReceiveDataAsync()).Payload);

        var output = (System.IO.Pipelines.Pipe)typeof(MachChannel).GetField("_output", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(peer.Server)!;
        output.Reader.CancelPendingRead();
        byte[] next = RandomNumberGenerator.GetBytes(100);
        await peer.Server.Output.WriteAsync(next);
        Assert.Equal(next, (await peer.ReceiveDataAsync()).Payload);
    }

    [Theory]
    [InlineData(false)] // no preface at all
    [InlineData(true)] // a preface that turns out to be something else
    public async Task BytesThatAreNotAnHttp2ClientsGoAtOnce(bool almostPreface)
    {
        await using RawPeer peer = await RawPeer.ConnectAsync(new MachTransportOptions { Limits = { UploadGatherDeadline = TimeSpan.FromHours(1) } });
        byte[] start = almostPreface ? [.. Preface[..16], .. "XX\r\n\r\n\r\n"u8] : RandomNumberGenerator.GetBytes(7);
        await peer.Server.Output.WriteAsync(start); // the send loop starts on the pool: the first message may go from there
        Assert.Equal(start, (await peer.ReceiveDataAsync()).Payload);

        for (int i = 0; i < 3; i++)
        {
            // Framed like an upload's DATA frame: still sent before the flush returns, as any write is.
            byte[] frame = Http2Bytes.Frame(type: 0, flags: 0, stream: 1, RandomNumberGenerator.GetBytes(Http2UploadTracker.FullFrameSize));
            await peer.Server.Output.WriteAsync(frame);
            Assert.False(peer.IsQuiet(), $"write {i} was held");
        }
    }

    [Fact]
    public void TheTrackerFollowsFramesSplitAnywhere()
    {
        byte[] open = [.. Preface, .. Http2Bytes.Frame(4, 0, 0, new byte[6]), .. Http2Bytes.Frame(1, 4, 1, new byte[40]), .. Http2Bytes.Frame(0, 0, 1, new byte[Http2UploadTracker.FullFrameSize])];
        byte[] padded = Http2Bytes.Frame(0, 0, 1, new byte[Http2UploadTracker.FullFrameSize - 1]); // short of full size
        byte[] ended = Http2Bytes.Frame(0, 1, 1, new byte[Http2UploadTracker.FullFrameSize]); // END_STREAM
        byte[] ping = Http2Bytes.Frame(6, 0, 0, new byte[8]);

        foreach (int split in new[] { 1, 5, 23, 24, 25, 33, 8000, open.Length - 1 })
        {
            Assert.True(Follow(new Http2UploadTracker(), open, split), $"split at {split}");
        }

        var tracker = new Http2UploadTracker();
        Assert.True(Follow(tracker, open, 30));
        Assert.False(Follow(tracker, padded, 3));
        Assert.True(Follow(tracker, Http2Bytes.Frame(0, 0, 3, new byte[Http2UploadTracker.FullFrameSize + 10]), 9)); // larger frames count as full
        Assert.False(Follow(tracker, ended, 100));
        Assert.False(Follow(tracker, ping, 2));
        Assert.False(Follow(tracker, open.AsSpan(Preface.Length).ToArray()[..^1], 9)); // ends mid-frame
        Assert.False(tracker.IsOff);
    }

    /// <summary>Feeds <paramref name="bytes"/> as a sequence of two segments split at <paramref name="split"/>.</summary>
    private static bool Follow(Http2UploadTracker tracker, byte[] bytes, int split)
    {
        var first = new Segment(bytes.AsMemory(0, split));
        Segment second = first.Append(bytes.AsMemory(split));
        return tracker.EndsInOpenFullDataFrame(new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
