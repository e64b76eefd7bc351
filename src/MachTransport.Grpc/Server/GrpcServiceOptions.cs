namespace MachTransport.Grpc;

/// <summary>Server-wide options of the gRPC runtime, named as in grpc-dotnet.</summary>
public sealed class GrpcServiceOptions
{
    /// <summary>The largest request message accepted (default 4 MiB; null for no limit); larger ones end the call with RESOURCE_EXHAUSTED.</summary>
    public int? MaxReceiveMessageSize { get; set; } = Protocol.GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>The largest response message sent (default: no limit).</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Whether an unhandled exception's message goes to the client in grpc-message (default false).</summary>
    public bool EnableDetailedErrors { get; set; }
}
