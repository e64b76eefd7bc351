namespace MachTransport.Grpc;

/// <summary>Options of a <see cref="GrpcChannel"/>, named as in grpc-dotnet.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>The handler calls go through, e.g. <c>MachHttpHandler.Create(name)</c>; a <see cref="SocketsHttpHandler"/> when null.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Whether disposing the channel disposes <see cref="HttpHandler"/> (default true).</summary>
    public bool DisposeHttpClient { get; set; } = true;

    /// <summary>The largest message the client accepts (default 4 MiB; null for no limit).</summary>
    public int? MaxReceiveMessageSize { get; set; } = Protocol.GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>The largest message the client sends (default: no limit).</summary>
    public int? MaxSendMessageSize { get; set; }
}
