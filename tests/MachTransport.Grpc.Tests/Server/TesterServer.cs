using System.Net;
using MachTransport.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MachTransport.Grpc.Tests.Server;

/// <summary>
/// The server process of the tests: Tester on a Mach service and on TCP 127.0.0.1:0 (h2c, for grpc-js), prints
/// "READY &lt;tcp port&gt;" and stops when stdin says "stop" or closes.
/// </summary>
internal static class TesterServer
{
    public static async Task<int> RunAsync(string serviceName)
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
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();

        WebApplication app = builder.Build();
        app.MapGrpcService<TesterService>();
        await app.StartAsync();

        string tcp = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        Console.WriteLine($"READY {new Uri(tcp).Port}");

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
