using System.Buffers;

namespace MachTransport.Grpc;

/// <summary>One received message's payload, valid only during the deserializer call.</summary>
public abstract class DeserializationContext
{
    /// <summary>The payload length in bytes.</summary>
    public abstract int PayloadLength { get; }

    /// <summary>The payload, without copying.</summary>
    public abstract ReadOnlySequence<byte> PayloadAsReadOnlySequence();

    /// <summary>The payload copied into a new array.</summary>
    public byte[] PayloadAsNewBuffer() => PayloadAsReadOnlySequence().ToArray();
}
