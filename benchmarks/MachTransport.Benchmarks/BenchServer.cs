// The server process: one Kestrel app serving gRPC on Mach, a Unix socket and TCP loopback at once, plus the raw
// echoes (Mach channel through the transport's IConnectionListenerFactory, Unix stream socket) and the SEQPACKET floor.
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Benchmarks;

internal static class BenchServer
{
    /// <summary>Largest gRPC message either side accepts: the 16 MiB echo plus framing.</summary>
    public const int MaxMessageSize = 64 << 20;

    public static async Task<int> RunAsync(ServerAddresses addresses, Variant variant)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseMachTransport(options =>
        {
            options.Limits.InlineThreshold = variant.InlineThreshold ?? options.Limits.InlineThreshold;
            options.Limits.MaxReadBufferSize = variant.ReadWindow ?? options.Limits.MaxReadBufferSize;
            // The harness is one peer process holding every client connection: the idle-memory measurement alone opens
            // 50 (200 in --full) beside the measured ones, past the per-peer default of 16.
            options.MaxConnectionsPerPeerProcess = options.MaxConnections;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenMach(addresses.MachService);
            kestrel.ListenUnixSocket(addresses.UdsPath, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            if (variant.Http2Window is int window)
            {
                kestrel.Limits.Http2.InitialStreamWindowSize = window;
                kestrel.Limits.Http2.InitialConnectionWindowSize = 2 * window;
            }
        });
        builder.Services.AddGrpc(options =>
        {
            options.MaxReceiveMessageSize = MaxMessageSize;
            options.MaxSendMessageSize = MaxMessageSize;
        });
        WebApplication app = builder.Build();
        app.MapGrpcService<BenchService>();
        await app.StartAsync();

        IConnectionListenerFactory machFactory = app.Services.GetServices<IConnectionListenerFactory>()
            .First(f => f is IConnectionListenerFactorySelector selector && selector.CanBind(new MachEndPoint(addresses.RawMachService)));
        await using IConnectionListener rawMach = await machFactory.BindAsync(new MachEndPoint(addresses.RawMachService));
        using var cancel = new CancellationTokenSource();
        Task machEcho = RawEcho.ServeAsync(rawMach, cancel.Token);
        Task udsEcho = RawEcho.ServeUnixAsync(addresses.RawUdsPath, cancel.Token);
        using FloorEcho floor = FloorEcho.Start(addresses.FloorPath);

        string tcp = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        Console.WriteLine($"READY {new Uri(tcp).Port} {Environment.ProcessId}");
        _ = await Console.In.ReadLineAsync(); // the harness closes stdin when done

        await cancel.CancelAsync();
        await rawMach.UnbindAsync();
        await Task.WhenAll(machEcho, udsEcho).WaitAsync(TimeSpan.FromSeconds(5));
        await app.StopAsync();
        return 0;
    }
}
