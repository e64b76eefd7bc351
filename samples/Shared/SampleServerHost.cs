// Shared by the samples (linked into each project): how a sample's server is hosted, so that each sample's own
// server file shows only what is particular to it.
using MachTransport.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MachTransport.Samples;

/// <summary>A gRPC server on one Mach service, logging one line per event to stderr; "stop" (or the end of stdin) ends it.</summary>
internal static class SampleServerHost
{
    /// <summary>A builder listening on <paramref name="serviceName"/> (in <paramref name="domain"/>), with the sample's own log lines at Information.</summary>
    public static WebApplicationBuilder CreateBuilder(string serviceName, MachBootstrapDomain domain = MachBootstrapDomain.User, Action<ListenOptions>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        SampleLogging.Configure(builder.Logging);
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(serviceName, domain, configure));
        return builder;
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
