using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace MachTransport.Grpc.Protocol;

/// <summary>Reads length-prefixed messages from a pipe (a request body on servers, a response body on clients).</summary>
internal sealed class MessageReader<T>(PipeReader reader, Marshaller<T> marshaller, int? maxReceiveMessageSize, bool compressionRequested)
{
    private readonly PayloadContext _payload = new();

    /// <summary>The next message, or false at a clean end of the stream; a broken frame throws <see cref="RpcException"/>.</summary>
    public async ValueTask<(bool Read, T? Message)> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition consumed = buffer.Start;
            try
            {
                if (TryReadFrame(buffer, out ReadOnlySequence<byte> payload))
                {
                    consumed = payload.End;
                    _payload.Set(payload);
                    try
                    {
                        return (true, marshaller.ContextualDeserializer(_payload));
                    }
                    catch (Exception ex) when (ex is not RpcException)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, $"Failed to deserialize a message: {ex.Message}"));
                    }
                    finally
                    {
                        _payload.Set(default);
                    }
                }

                if (result.IsCompleted)
                {
                    consumed = buffer.End;
                    return buffer.IsEmpty
                        ? (false, default)
                        : throw new RpcException(new Status(StatusCode.Internal, "Incomplete message: the stream ended inside a frame."));
                }
            }
            finally
            {
                reader.AdvanceTo(consumed, buffer.End);
            }
        }
    }

    private bool TryReadFrame(ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < GrpcProtocol.FrameHeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[GrpcProtocol.FrameHeaderLength];
        buffer.Slice(0, GrpcProtocol.FrameHeaderLength).CopyTo(header);
        switch (header[0])
        {
            case 0:
                break;
            case 1 when compressionRequested:
                throw new RpcException(new Status(StatusCode.Unimplemented, "Compressed messages are not supported: send grpc-encoding identity."));
            case 1:
                throw new RpcException(new Status(StatusCode.Internal, "A compressed message arrived without a grpc-encoding."));
            default:
                throw new RpcException(new Status(StatusCode.Internal, $"Invalid compressed flag {header[0]} in a message frame."));
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)(maxReceiveMessageSize ?? int.MaxValue))
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Received message exceeds the maximum configured message size ({length} > {maxReceiveMessageSize})."));
        }

        if (buffer.Length - GrpcProtocol.FrameHeaderLength < length)
        {
            return false;
        }

        payload = buffer.Slice(GrpcProtocol.FrameHeaderLength, length);
        return true;
    }

    private sealed class PayloadContext : DeserializationContext
    {
        private ReadOnlySequence<byte> _payload;

        public override int PayloadLength => (int)_payload.Length;

        public void Set(ReadOnlySequence<byte> payload) => _payload = payload;

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => _payload;
    }
}
