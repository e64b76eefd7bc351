using EchoFiles.Protos;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>A stand-in Echoer server, in the test process, that takes calls and never answers: only the client's deadline ends them.</summary>
internal sealed class SilentEchoer : Echoer.EchoerBase
{
    /// <summary>Serves on <paramref name="serviceName"/> until disposed.</summary>
    public static async Task<WebApplication> StartAsync(string serviceName)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(serviceName));
        builder.Services.AddGrpc();
        WebApplication app = builder.Build();
        app.MapGrpcService<SilentEchoer>();
        await app.StartAsync();
        return app;
    }

    public override Task Echo(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
        => Task.Delay(Timeout.Infinite, context.CancellationToken);
}
