using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>The per-connection limits and telemetry of one side; both the server options and the client options map to these.</summary>
internal sealed record ChannelSettings(
    long MaxReadBufferSize,
    long MaxWriteBufferSize,
    int InlineThreshold,
    int QueueLimit,
    ILogger Logger,
    MachTransportMetrics Metrics)
{
    /// <summary>DATA messages the peer may have queued on our port at once: half the queue, the rest is for control messages.</summary>
    public int MessageWindow => Math.Max(1, QueueLimit / 2);

    /// <summary>Bytes the peer may have sent that our reader has not consumed yet.</summary>
    public uint ByteWindow => (uint)Math.Clamp(MaxReadBufferSize, 1, int.MaxValue);

    /// <summary>Largest inline payload we accept, announced to the peer.</summary>
    public static int MaxInlineReceive => MachProtocol.MaxInlinePayload;
}
