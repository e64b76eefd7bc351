using Microsoft.AspNetCore.Http;

namespace MachTransport.Grpc;

/// <summary>What a handler knows about its call and how it shapes the response, as in grpc-dotnet.</summary>
public abstract class ServerCallContext
{
    /// <summary>The method's path, e.g. <c>/greet.Greeter/SayHello</c>.</summary>
    public abstract string Method { get; }

    /// <summary>The host the client addressed.</summary>
    public abstract string Host { get; }

    /// <summary>The caller's address (e.g. <c>ipv4:127.0.0.1:5000</c>), or <c>unknown</c> on a Mach connection.</summary>
    public abstract string Peer { get; }

    /// <summary>The call's deadline (UTC), <see cref="DateTime.MaxValue"/> for none.</summary>
    public abstract DateTime Deadline { get; }

    /// <summary>The request headers.</summary>
    public abstract Metadata RequestHeaders { get; }

    /// <summary>Cancelled when the client cancels, the connection goes or the deadline passes.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>Trailers sent with the status.</summary>
    public abstract Metadata ResponseTrailers { get; }

    /// <summary>The status sent when the handler returns (an <see cref="RpcException"/> overrides it).</summary>
    public abstract Status Status { get; set; }

    /// <summary>The HTTP exchange of the call.</summary>
    public abstract HttpContext HttpContext { get; }

    /// <summary>Sends response headers now; at most once, before the first message.</summary>
    public abstract Task WriteResponseHeadersAsync(Metadata responseHeaders);
}
