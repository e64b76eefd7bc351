using MachTransport.Samples;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EchoFiles;

/// <summary>The server part: the Echoer service on a Mach service, its files in <c>directory</c>.</summary>
internal static class EchoServer
{
    public static Task<int> RunAsync(string serviceName, string directory)
    {
        WebApplicationBuilder builder = SampleServerHost.CreateBuilder(serviceName);
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(services => new EchoFolder(directory, services.GetRequiredService<ILogger<EchoFolder>>()));

        WebApplication app = builder.Build();
        app.MapGrpcService<EchoService>();
        return SampleServerHost.RunAsync(app);
    }
}
