namespace MachTransport.Grpc;

/// <summary>Factory methods for <see cref="Marshaller{T}"/>.</summary>
public static class Marshallers
{
    /// <summary>A marshaller from contextual (buffer-based) delegates: what generated code uses.</summary>
    public static Marshaller<T> Create<T>(Action<T, SerializationContext> serializer, Func<DeserializationContext, T> deserializer) => new(serializer, deserializer);

    /// <summary>A marshaller from array-based delegates (one array per message: for tests and simple types).</summary>
    public static Marshaller<T> Create<T>(Func<T, byte[]> serializer, Func<byte[], T> deserializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentNullException.ThrowIfNull(deserializer);
        return new Marshaller<T>((message, context) => context.Complete(serializer(message)), context => deserializer(context.PayloadAsNewBuffer()));
    }
}
