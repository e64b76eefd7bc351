using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MachTransport.Grpc.Tests.Server;

/// <summary>
/// The server process of the tests, on the official stack: Tester and Identity (plus health checking, reflection and
/// minimal APIs "/whoami" and "/other") on a Mach service and on TCP 127.0.0.1:0 (h2c). Prints "READY &lt;tcp port&gt;"
/// and stops when stdin says "stop" or closes. In the system domain (a root server of the cross-user tests) every user
/// may connect, and the authorization policies decide per call.
/// </summary>
internal static class TesterServer
{
    /// <summary>The server's limit on received messages (the grpc-dotnet default is 4 MiB; the tests send 16 MiB).</summary>
    public const int MaxReceiveMessageSize = 20 * 1024 * 1024;

    /// <summary>A uid the "other-user" policy admits: any but this process's; nobody's for root (the cross-user tests call as nobody).</summary>
    public static uint OtherUid(uint uid) => uid == 0 ? 65534 : uid - 1;

    public static async Task<int> RunAsync(string serviceName, bool systemDomain = false)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseMachTransport(o => o.PeerPolicy = systemDomain ? _ => true : o.PeerPolicy);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenMach(serviceName, systemDomain ? MachBootstrapDomain.System : MachBootstrapDomain.User);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = MaxReceiveMessageSize);
        builder.Services.AddGrpcHealthChecks().AddCheck("tester", () => HealthCheckResult.Healthy());
        builder.Services.AddGrpcReflection();
        builder.Services.AddAuthentication(MachPeerAuthenticationDefaults.AuthenticationScheme).AddMachPeer();
        builder.Services.AddAuthorization(o =>
        {
            o.AddPolicy("same-user", policy => policy.RequireMachPeerSameUser());
            o.AddPolicy("other-user", policy => policy.RequireMachPeerUser(OtherUid(ProcessUser.Uid)));
        });

        WebApplication app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGrpcService<TesterService>();
        app.MapGrpcService<IdentityService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapGet("/whoami", Describe).RequireAuthorization("same-user");
        app.MapGet("/other", Describe).RequireAuthorization("other-user");
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

    private static string Describe(HttpContext context) => $"uid {context.User.Identity?.Name} pid {context.User.FindFirst(MachPeerClaimTypes.Pid)?.Value}";
}
