using MachTransport.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MachTransport.Grpc.Server;

/// <summary>Lets the catch-all UNIMPLEMENTED route match gRPC requests only, so other POSTs of the app still 404.</summary>
internal sealed class GrpcRequestConstraint : IRouteConstraint
{
    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        httpContext is not null && GrpcProtocol.IsGrpcContentType(httpContext.Request.ContentType);
}
