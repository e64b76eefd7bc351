// Shared by the samples (linked into each project): how a sample's server runs once built, so that the demo and the
// tests can drive it as well as a user's Ctrl+C.
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace MachTransport.Samples;

/// <summary>Runs a sample's server: it stops on Ctrl+C or SIGTERM, as any ASP.NET Core app does, or on a "stop" line on stdin.</summary>
internal static class SampleServerHost
{
    /// <summary>
    /// Starts <paramref name="app"/>, says READY on stdout and serves until Ctrl+C, SIGTERM or a "stop" line on stdin.
    /// The end of stdin stops nothing: a server started with <c>nohup … &amp;</c> or from a service manager has none.
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app)
    {
        await app.StartAsync();
        Console.WriteLine("READY");
        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is string line)
            {
                if (line == "stop")
                {
                    await app.StopAsync();
                    return;
                }
            }
        });
        await app.WaitForShutdownAsync();
        return 0;
    }
}
