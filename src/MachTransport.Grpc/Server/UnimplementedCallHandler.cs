using System.Globalization;
using MachTransport.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MachTransport.Grpc.Server;

/// <summary>Answers calls to unknown services or methods with UNIMPLEMENTED, as a trailers-only response.</summary>
internal static class UnimplementedCallHandler
{
    public static RequestDelegate Create(string detail, ILogger logger) => httpContext =>
    {
        if (ServerRequest.TryAccept(httpContext, logger))
        {
            GrpcLog.Unimplemented(logger, httpContext.Request.Path, detail);
            httpContext.Response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Unimplemented).ToString(CultureInfo.InvariantCulture);
            httpContext.Response.Headers[GrpcProtocol.MessageHeader] = PercentEncoding.Encode(detail);
        }

        return Task.CompletedTask;
    };
}
