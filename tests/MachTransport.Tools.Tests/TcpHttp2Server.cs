// A plain Kestrel HTTP/2 server on TCP or a Unix socket, in the test process: it knows nothing of Mach.
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Tools.Tests;

internal sealed class TcpHttp2Server : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TcpHttp2Server(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>What to pass to <c>machctl expose --to</c>.</summary>
    public string Address { get; }

    /// <summary>Starts on 127.0.0.1 (a free port) or, given <paramref name="unixPath"/>, on that Unix socket.</summary>
    public static async Task<TcpHttp2Server> StartAsync(string? unixPath = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            if (unixPath is null)
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            }
            else
            {
                kestrel.ListenUnixSocket(unixPath, listen => listen.Protocols = HttpProtocols.Http2);
            }
        });
        WebApplication app = builder.Build();
        app.MapGet("/hello", (HttpContext context) => $"tcp hello {context.Request.Protocol}");
        app.MapPost("/sha256", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            return Http.Sha256(body.ToArray());
        });
        app.MapGet("/bytes", (int n, int seed) => Results.Bytes(Http.RandomBytes(n, seed)));
        await app.StartAsync();
        if (unixPath is not null)
        {
            return new TcpHttp2Server(app, "unix:" + unixPath);
        }

        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TcpHttp2Server(app, $"127.0.0.1:{new Uri(url).Port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
