// "machctl bridge": a TCP or Unix-socket listener whose every connection is joined to its own Mach connection.
using System.CommandLine;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace MachTransport.Tools;

internal static class BridgeCommand
{
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(50);

    public static Command Create()
    {
        var listen = new Option<string>("--listen")
        {
            Description = "Where to accept connections: HOST:PORT (such as 127.0.0.1:8080; port 0 picks one) or unix:PATH.",
            HelpName = "ADDRESS",
            Required = true,
        };
        var service = new Option<string>("--service") { Description = "The Mach service each connection is joined to.", Required = true, HelpName = "NAME" };
        var command = new Command(
            "bridge",
            "Join each TCP or Unix-socket connection, byte for byte, to its own connection to a Mach service, so HTTP/2 "
            + "and gRPC tools (curl --http2-prior-knowledge, grpcurl -plaintext, h2load) reach it. Whoever can connect "
            + "to ADDRESS reaches the service as this user (a unix: socket is made mode 0600; a TCP port is open to "
            + "every local user). Prints 'listening on ADDRESS, forwarding to Mach service NAME' once ready.")
        {
            listen,
            service,
            ToolContext.Grace,
        };
        command.SetAction((result, _) => RunAsync(
            result.GetRequiredValue(listen), result.GetRequiredValue(service), result.GetValue(ToolContext.Grace), result.GetValue(ToolContext.Verbose)));
        return command;
    }

    private static async Task<int> RunAsync(string listenText, string serviceName, double graceSeconds, bool verbose)
    {
        if (SocketAddress.TryParse(listenText, out string? error) is not SocketAddress address)
        {
            return ToolContext.Fail(error!);
        }

        if (ToolContext.RejectServiceName(serviceName))
        {
            return ToolContext.Failure;
        }

        TimeSpan grace = TimeSpan.FromSeconds(graceSeconds);
        using ILoggerFactory loggerFactory = ToolContext.CreateLoggerFactory(verbose);
        ILogger logger = loggerFactory.CreateLogger("machctl.bridge");
        var factory = new MachConnectionFactory(new MachClientOptions { LoggerFactory = loggerFactory });
        var endPoint = new MachEndPoint(serviceName);
        try
        {
            // Fail at start, not at the first client, when the service is not there (the look-up opens no connection).
            MachConnectionFactory.LookUp(endPoint);
        }
        catch (Exception ex) when (ex is MachBootstrapException or MachException or PlatformNotSupportedException)
        {
            return ToolContext.Fail(ex.Message);
        }

        using ShutdownSignal shutdown = new();
        using SocketListener? listener = SocketListener.TryListen(address, out error);
        if (listener is null)
        {
            return ToolContext.Fail(error!);
        }

        using var connections = new ConnectionSet(logger);
        Console.WriteLine($"listening on {listener.BoundAddress}, forwarding to Mach service {serviceName}");
        while (!shutdown.Token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(shutdown.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // E.g. out of descriptors: this client is lost, the bridge goes on after a pause (no busy loop).
                Log.AcceptFailed(logger, ex.Message);
                await Task.Delay(AcceptRetryDelay, CancellationToken.None);
                continue;
            }

            connections.Start(id => ServeAsync(id, socket, factory, endPoint, logger, connections.AbortToken));
        }

        listener.Dispose();
        await connections.DrainAsync(grace);
        return ToolContext.Success;
    }

    private static async Task ServeAsync(long id, Socket socket, MachConnectionFactory factory, MachEndPoint endPoint, ILogger logger, CancellationToken abort)
    {
        ConnectionContext connection;
        try
        {
            connection = await factory.ConnectAsync(endPoint, abort);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Not registered, server gone, refused, timed out: this one client is closed, the bridge goes on.
            Log.ServiceUnreachable(logger, id, endPoint.ServiceName, ex.Message);
            socket.Dispose();
            return;
        }

        await Splice.JoinAsync(id, socket, new MachEnd(connection), logger, abort);
    }
}
