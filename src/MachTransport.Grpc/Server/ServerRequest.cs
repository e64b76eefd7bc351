using MachTransport.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace MachTransport.Grpc.Server;

/// <summary>Checks that a request is gRPC over HTTP/2 and starts its response the gRPC way.</summary>
internal static class ServerRequest
{
    /// <summary>False (and an HTTP error response written) for a request that is not gRPC over HTTP/2.</summary>
    public static bool TryAccept(HttpContext httpContext, ILogger logger)
    {
        HttpRequest request = httpContext.Request;
        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            GrpcLog.RejectedContentType(logger, request.Path, request.ContentType);
            httpContext.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return false;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            // gRPC needs trailers, which only HTTP/2 (here) carries.
            GrpcLog.RejectedProtocol(logger, request.Path, request.Protocol);
            httpContext.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return false;
        }

        // A call's body is a stream of messages, limited per message (MaxReceiveMessageSize), and may idle for as long
        // as the call lives: Kestrel's whole-body size limit and minimum data rate would cut long calls.
        if (httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        if (httpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } dataRate)
        {
            dataRate.MinDataRate = null;
        }

        httpContext.Response.ContentType = GrpcProtocol.ContentType;
        httpContext.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;
        return true;
    }
}
