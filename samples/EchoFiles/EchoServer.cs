using MachTransport.Samples;
using MachTransport.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoFiles;

/// <summary>
/// The server part: the Echoer service on a Mach service, its files in <c>directory</c>. As a privileged helper for
/// the user <c>helperFor</c>, the server (root) registers the name in the system domain, where that user's processes
/// find it, and admits that user's processes alone.
/// </summary>
internal static class EchoServer
{
    public static Task<int> RunAsync(string serviceName, string directory, uint? helperFor)
    {
        // Each connection's client is recorded when the connection is admitted: its pid, and when that process started.
        var clients = new ClientProcesses();
        WebApplicationBuilder builder = SampleServerHost.CreateBuilder(serviceName, helperFor is null ? MachBootstrapDomain.User : MachBootstrapDomain.System, listen => listen.Use(clients.Middleware));
        if (helperFor is uint uid)
        {
            builder.WebHost.UseMachTransport(options => options.PeerPolicy = peer => peer.Uid == uid);
        }

        builder.Services.AddGrpc();
        builder.Services.AddSingleton(clients);
        builder.Services.AddSingleton(services => new EchoFolder(directory, services.GetRequiredService<ILogger<EchoFolder>>()));

        WebApplication app = builder.Build();
        app.MapGrpcService<EchoService>();
        return SampleServerHost.RunAsync(app);
    }
}
