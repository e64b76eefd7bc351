// Shared by the samples (linked into each project): how a sample's server is hosted, so that each sample's own
// server file shows only what is particular to it.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace MachTransport.Samples;

/// <summary>A gRPC server on one Mach service, logging one line per event to stderr; "stop" (or the end of stdin) ends it.</summary>
internal static class SampleServerHost
{
    /// <summary>A builder listening on <paramref name="serviceName"/>, with the sample's own log lines at Information.</summary>
    public static WebApplicationBuilder CreateBuilder(string serviceName)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        ConfigureLogging(builder.Logging);
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(serviceName));
        return builder;
    }

    /// <summary>Console logging as the samples use it on both sides: one line per event, on stderr (stdout is the sample's own output).</summary>
    public static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
    }

    /// <summary>Starts <paramref name="app"/>, says READY on stdout and serves until "stop" or the end of stdin.</summary>
    public static async Task<int> RunAsync(WebApplication app)
    {
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
