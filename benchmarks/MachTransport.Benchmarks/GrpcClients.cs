// gRPC channels to one server process over each transport: Mach as an application would open it
// (MachGrpcChannel.ForService, or MachHttpHandler.Create when a variant tunes the handler), a Unix socket through
// SocketsHttpHandler.ConnectCallback, and plain TCP loopback.
using System.Net.Sockets;
using Grpc.Net.Client;
using MachTransport.Grpc;

namespace MachTransport.Benchmarks;

internal static class GrpcClients
{
    public static readonly string[] Transports = ["mach", "uds", "tcp"];

    public static GrpcChannel Create(string transport, ServerProcess server)
    {
        Variant variant = server.Variant;
        var options = new GrpcChannelOptions
        {
            MaxReceiveMessageSize = BenchServer.MaxMessageSize,
            MaxSendMessageSize = BenchServer.MaxMessageSize,
        };
        if (transport == "mach" && variant == Variant.Default)
        {
            return MachGrpcChannel.ForService(server.Addresses.MachService, options);
        }

        SocketsHttpHandler handler = transport switch
        {
            "mach" => MachHttpHandler.Create(server.Addresses.MachService, MachOptions(variant)),
            "uds" => new SocketsHttpHandler
            {
                ConnectCallback = (_, cancel) => ConnectUnixAsync(server.Addresses.UdsPath, cancel),
                EnableMultipleHttp2Connections = true,
                UseProxy = false,
            },
            "tcp" => new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false },
            _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "unknown transport"),
        };
        if (variant.Http2Window is int window)
        {
            handler.InitialHttp2StreamWindowSize = window;
        }

        options.HttpHandler = handler;
        options.DisposeHttpClient = true;
        return GrpcChannel.ForAddress(transport == "tcp" ? $"http://127.0.0.1:{server.TcpPort}" : "http://localhost", options);
    }

    public static MachClientOptions MachOptions(Variant variant)
    {
        var options = new MachClientOptions();
        options.Limits.InlineThreshold = variant.InlineThreshold ?? options.Limits.InlineThreshold;
        options.Limits.MaxReadBufferSize = variant.ReadWindow ?? options.Limits.MaxReadBufferSize;
        return options;
    }

    public static async ValueTask<Stream> ConnectUnixAsync(string path, CancellationToken cancel)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
