using System.Buffers;

namespace MachTransport.Grpc;

/// <summary>Where a marshaller writes one message's payload.</summary>
public abstract class SerializationContext
{
    /// <summary>Declares the payload length before writing it (lets the runtime size its buffer once).</summary>
    public virtual void SetPayloadLength(int payloadLength)
    {
    }

    /// <summary>The writer that takes the payload; call <see cref="Complete()"/> when done.</summary>
    public abstract IBufferWriter<byte> GetBufferWriter();

    /// <summary>Ends a payload written through <see cref="GetBufferWriter"/>.</summary>
    public abstract void Complete();

    /// <summary>Writes the whole payload at once.</summary>
    public abstract void Complete(byte[] payload);
}
