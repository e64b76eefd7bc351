using System.Buffers;
using System.Buffers.Binary;

namespace MachTransport.Grpc.Protocol;

/// <summary>
/// Serializes messages into one pooled buffer, reused for every message of a call: the 5-byte frame header is
/// reserved in front, so a frame goes out in one write without another copy.
/// </summary>
internal sealed class FrameSerializationContext : SerializationContext, IBufferWriter<byte>, IDisposable
{
    private const int InitialSize = 4096;

    private readonly int? _maxSendMessageSize;
    private byte[] _buffer;
    private int _written;
    private bool _completed;

    public FrameSerializationContext(int? maxSendMessageSize)
    {
        _maxSendMessageSize = maxSendMessageSize;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    }

    /// <summary>The whole frame (header and payload) of <paramref name="message"/>, valid until the next call.</summary>
    public ReadOnlyMemory<byte> Serialize<T>(Marshaller<T> marshaller, T message)
    {
        _written = GrpcProtocol.FrameHeaderLength;
        _completed = false;
        marshaller.ContextualSerializer(message, this);
        if (!_completed)
        {
            throw new InvalidOperationException("The serializer did not call Complete on its SerializationContext.");
        }

        int payloadLength = _written - GrpcProtocol.FrameHeaderLength;
        if (payloadLength > _maxSendMessageSize)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Sending message exceeds the maximum configured message size ({payloadLength} > {_maxSendMessageSize})."));
        }

        _buffer[0] = 0; // not compressed
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(1, 4), (uint)payloadLength);
        return _buffer.AsMemory(0, _written);
    }

    public override void SetPayloadLength(int payloadLength) => EnsureCapacity(payloadLength);

    public override IBufferWriter<byte> GetBufferWriter() => this;

    public override void Complete() => _completed = true;

    public override void Complete(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        payload.CopyTo(GetSpan(payload.Length));
        Advance(payload.Length);
        _completed = true;
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureCapacity(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void EnsureCapacity(int additional)
    {
        if (_buffer.Length - _written >= additional)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(checked(Math.Max(_buffer.Length * 2, _written + additional)));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
