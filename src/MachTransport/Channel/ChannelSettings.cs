using System.Buffers;
using System.IO.Pipelines;
using MachTransport.Infrastructure;
using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>
/// The per-connection limits, memory and telemetry of one side (both the server options and the client options map
/// to these). A listener builds them once, so its connections share their pipe options as Kestrel's do; so does each
/// client <c>MachConnectionFactory</c> (one per <c>MachHttpHandler</c>).
/// </summary>
internal sealed record ChannelSettings(
    long MaxReadBufferSize,
    long MaxWriteBufferSize,
    int InlineThreshold,
    int QueueLimit,
    TimeSpan CreditStallTimeout,
    ILogger Logger,
    MachTransportMetrics Metrics,
    MemoryPool<byte> MemoryPool,
    int MinimumSegmentSize = -1)
{
    /// <summary>What the peer sent, for the application to read: no pause threshold, the byte window bounds it.</summary>
    public PipeOptions InputPipeOptions { get; } = new(
        MemoryPool,
        readerScheduler: PipeScheduler.ThreadPool,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0,
        resumeWriterThreshold: 0,
        minimumSegmentSize: MinimumSegmentSize,
        useSynchronizationContext: false);

    /// <summary>
    /// What the application writes, for the send loop: the writer pauses at the write buffer limit (0: never). The send loop
    /// runs inline on the flushing writer's thread, as a socket's write does: sending never blocks (a full queue or
    /// no credit makes it wait asynchronously), and a hop to the thread pool per message woke a pool thread that then
    /// spun for more work on the cores the peer needed.
    /// </summary>
    public PipeOptions OutputPipeOptions { get; } = new(
        MemoryPool,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: MaxWriteBufferSize,
        resumeWriterThreshold: MaxWriteBufferSize / 2,
        minimumSegmentSize: MinimumSegmentSize,
        useSynchronizationContext: false);

    /// <summary>
    /// Settings for connections made under <paramref name="limits"/> (copied: later changes do not apply). Pipe
    /// segments are the pool's own size unless <paramref name="minimumSegmentSize"/> asks for larger ones.
    /// </summary>
    public static ChannelSettings From(MachConnectionLimits limits, ILogger logger, MachTransportMetrics metrics, MemoryPool<byte> memoryPool, int minimumSegmentSize = -1)
        => new(
            limits.MaxReadBufferSize ?? MachProtocol.MaxByteWindow,
            limits.MaxWriteBufferSize ?? 0, // a pipe pauses its writer at no threshold when it is 0
            limits.InlineThreshold, limits.QueueLimit, limits.CreditStallTimeout, logger, metrics, memoryPool, minimumSegmentSize)
        {
            UploadGatherDeadline = limits.UploadGatherDeadline,
        };

    /// <summary>The longest an HTTP/2 client's request body frames wait to be gathered (<see cref="Http2UploadTracker"/>).</summary>
    public TimeSpan UploadGatherDeadline { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>DATA messages the peer may have queued on our port at once: half the queue, the rest is for control messages.</summary>
    public int MessageWindow => Math.Max(1, QueueLimit / 2);

    /// <summary>Bytes the peer may have sent that our reader has not consumed yet.</summary>
    public uint ByteWindow => (uint)Math.Clamp(MaxReadBufferSize, 1, MachProtocol.MaxByteWindow);
}
