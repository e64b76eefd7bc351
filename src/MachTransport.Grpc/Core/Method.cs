namespace MachTransport.Grpc;

/// <summary>Describes one method of a service: its name, kind and message marshallers.</summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class Method<TRequest, TResponse>
{
    /// <summary>A method <paramref name="name"/> of <paramref name="serviceName"/> (a fully qualified proto service name).</summary>
    public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller, Marshaller<TResponse> responseMarshaller)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(requestMarshaller);
        ArgumentNullException.ThrowIfNull(responseMarshaller);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = $"/{serviceName}/{name}";
        RequestMarshaller = requestMarshaller;
        ResponseMarshaller = responseMarshaller;
    }

    /// <summary>The kind of method.</summary>
    public MethodType Type { get; }

    /// <summary>The fully qualified service name, e.g. <c>greet.Greeter</c>.</summary>
    public string ServiceName { get; }

    /// <summary>The method name, e.g. <c>SayHello</c>.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 path, e.g. <c>/greet.Greeter/SayHello</c>.</summary>
    public string FullName { get; }

    /// <summary>The request marshaller.</summary>
    public Marshaller<TRequest> RequestMarshaller { get; }

    /// <summary>The response marshaller.</summary>
    public Marshaller<TResponse> ResponseMarshaller { get; }
}
