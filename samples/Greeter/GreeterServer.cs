using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greeter;

/// <summary>
/// The server part: Greeter, gRPC health checking and server reflection on the Mach service (HTTP/2) and, if asked,
/// on a TCP port; "stop" on stdin ends it.
/// </summary>
internal static class GreeterServer
{
    public static async Task<int> RunAsync(string serviceName, int? tcpPort)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenMach(serviceName);
            if (tcpPort is int port)
            {
                kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
            }
        });
        builder.Services.AddGrpc();
        // The Greeter depends on nothing, so its one check is "the process serves"; a real service would check its stores.
        builder.Services.AddGrpcHealthChecks().AddCheck("greeter", () => HealthCheckResult.Healthy());
        builder.Services.AddGrpcReflection();

        WebApplication app = builder.Build();
        app.MapGrpcService<GreeterService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        await app.StartAsync();
        Console.WriteLine("READY");

        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is string line && line != "stop")
            {
            }

            await app.StopAsync();
        });
        await app.WaitForShutdownAsync();
        return 0;
    }
}
