using Microsoft.AspNetCore.Http;

namespace MachTransport.Grpc;

/// <summary>grpc-dotnet's way to reach the HTTP exchange from a handler.</summary>
public static class ServerCallContextExtensions
{
    /// <summary>The call's <see cref="HttpContext"/> (e.g. for the Mach peer credentials feature).</summary>
    public static HttpContext GetHttpContext(this ServerCallContext serverCallContext)
    {
        ArgumentNullException.ThrowIfNull(serverCallContext);
        return serverCallContext.HttpContext;
    }
}
