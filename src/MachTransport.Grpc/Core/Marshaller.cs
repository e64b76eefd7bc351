namespace MachTransport.Grpc;

/// <summary>Turns messages of type <typeparamref name="T"/> into payload bytes and back.</summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class Marshaller<T>
{
    /// <summary>A marshaller writing into and reading from the runtime's pooled buffers.</summary>
    public Marshaller(Action<T, SerializationContext> serializer, Func<DeserializationContext, T> deserializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(deserializer);
        ContextualSerializer = serializer;
        ContextualDeserializer = deserializer;
    }

    /// <summary>Writes a message's payload into the context.</summary>
    public Action<T, SerializationContext> ContextualSerializer { get; }

    /// <summary>Reads a message from the payload the context holds.</summary>
    public Func<DeserializationContext, T> ContextualDeserializer { get; }
}
