// The .NET interop server in the test process: grpc.testing.TestService on a Mach service (Kestrel + MachTransport),
// with machctl bridge in front of it on 127.0.0.1 for the clients that only speak TCP.
using Grpc.Core;
using MachTransport.Interop.Tests.Infrastructure;
using MachTransport.Tools.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace MachTransport.Interop.Tests.Server;

public sealed class InteropServer : IAsyncLifetime
{
    private WebApplication? _app;
    private Machctl? _bridge;

    public string Service { get; } = TestEnvironment.UniqueServiceName("interop");

    /// <summary>The bridge's TCP port: plaintext h2c to the Mach service.</summary>
    public int BridgePort => _bridge!.Port;

    /// <summary>The first byte (the compressed flag) of a unary call's request body, or -1.</summary>
    internal static int RequestFirstByte(ServerCallContext context)
        => context.GetHttpContext().Items[typeof(FirstByteStream)] is FirstByteStream tap ? tap.FirstByte : -1;

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(Service));
        builder.Services.AddGrpc();
        _app = builder.Build();
        _app.Use((context, next) =>
        {
            if (context.Request.Path == "/grpc.testing.TestService/UnaryCall")
            {
                var tap = new FirstByteStream(context.Request.Body);
                context.Items[typeof(FirstByteStream)] = tap;
                context.Request.Body = tap;
            }

            return next(context);
        });
        _app.MapGrpcService<InteropTestService>();
        await _app.StartAsync();
        _bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", Service);
    }

    public async Task DisposeAsync()
    {
        if (_bridge is not null)
        {
            await _bridge.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
