using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace MachTransport.Channel;

/// <summary>
/// The reading end the application sees. It forwards to the input pipe and reports every consumed byte to the
/// channel, which turns consumption into CREDIT for the peer: that is what bounds the bytes buffered per connection.
/// </summary>
internal sealed class ChannelInputReader : PipeReader
{
    private readonly PipeReader _inner;
    private readonly MachChannel _channel;
    private ReadOnlySequence<byte> _lastBuffer;

    public ChannelInputReader(PipeReader inner, MachChannel channel)
    {
        _inner = inner;
        _channel = channel;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        long count = _lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
        _lastBuffer = default;
        _inner.AdvanceTo(consumed, examined);
        if (count > 0)
        {
            _channel.OnConsumed(count);
        }
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        _inner.Complete(exception);
        _channel.OnInputReaderCompleted();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ReadResult result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _lastBuffer = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_inner.TryRead(out result))
        {
            _lastBuffer = result.Buffer;
            return true;
        }

        return false;
    }
}
