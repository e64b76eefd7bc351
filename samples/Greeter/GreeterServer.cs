using System.Net;
using MachTransport.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Greeter;

/// <summary>The server part: Greeter on the Mach service (HTTP/2) and, if asked, on a TCP port; "stop" on stdin ends it.</summary>
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

        WebApplication app = builder.Build();
        app.MapGrpcService<GreeterService>();
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
