using System.Net;
using MachTransport.Samples;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Greeter;

/// <summary>
/// The server part: Greeter, gRPC health checking and server reflection on the Mach service (HTTP/2) and, if asked,
/// on a TCP port; "stop" on stdin ends it.
/// </summary>
internal static class GreeterServer
{
    public static async Task<int> RunAsync(string serviceName, int? tcpPort)
    {
        WebApplicationBuilder builder = SampleServerHost.CreateBuilder(serviceName);
        if (tcpPort is int port)
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        }

        builder.Services.AddGrpc();
        // The Greeter depends on nothing, so its one check is "the process serves"; a real service would check its stores.
        builder.Services.AddGrpcHealthChecks().AddCheck("greeter", () => HealthCheckResult.Healthy());
        builder.Services.AddGrpcReflection();

        WebApplication app = builder.Build();
        app.MapGrpcService<GreeterService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return await SampleServerHost.RunAsync(app);
    }
}
