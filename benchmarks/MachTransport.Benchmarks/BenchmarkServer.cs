using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Benchmarks;

/// <summary>One Kestrel app on three transports, so every transport is measured against the same server.</summary>
internal static class BenchmarkServer
{
    public static async Task<int> RunAsync(string service, string udsPath)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenMach(service);
            kestrel.ListenUnixSocket(udsPath, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        WebApplication app = builder.Build();
        byte[] small = new byte[64];
        byte[] large = new byte[1024 * 1024];
        Random.Shared.NextBytes(large);
        app.MapGet("/small", () => Results.Bytes(small));
        app.MapGet("/large", () => Results.Bytes(large));
        app.MapPost("/upload", async (HttpContext context) =>
        {
            long total = 0;
            byte[] buffer = new byte[64 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            return Results.Text(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        await app.StartAsync();
        string tcp = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        Console.WriteLine($"READY {new Uri(tcp).Port}");
        _ = await Console.In.ReadLineAsync(); // the benchmark closes stdin when done
        await app.StopAsync();
        return 0;
    }
}
