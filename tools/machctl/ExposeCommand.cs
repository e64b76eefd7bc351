// "machctl expose": registers a Mach service whose every connection is joined to its own TCP or Unix-socket connection to a target.
using System.CommandLine;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace MachTransport.Tools;

internal static class ExposeCommand
{
    /// <summary>How long a connection to the target may take before that Mach connection is given up.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var service = new Option<string>("--service") { Description = "The Mach service name to register.", Required = true, HelpName = "NAME" };
        var to = new Option<string>("--to")
        {
            Description = "The server each Mach connection is joined to: HOST:PORT (such as 127.0.0.1:5000) or unix:PATH.",
            HelpName = "ADDRESS",
            Required = true,
        };
        var command = new Command(
            "expose",
            "Register a Mach service and join each connection to it, byte for byte, to its own connection to a TCP or "
            + "Unix-socket server, so MachHttpHandler clients reach a server that knows nothing of Mach. Only processes of "
            + "this user may connect. Prints 'registered Mach service NAME, forwarding to ADDRESS' once ready.")
        {
            service,
            to,
            ToolContext.Grace,
        };
        command.SetAction((result, _) => RunAsync(
            result.GetRequiredValue(service), result.GetRequiredValue(to), result.GetValue(ToolContext.Grace), result.GetValue(ToolContext.Verbose)));
        return command;
    }

    private static async Task<int> RunAsync(string serviceName, string targetText, double graceSeconds, bool verbose)
    {
        if (SocketAddress.TryParse(targetText, out string? error) is not SocketAddress target)
        {
            return ToolContext.Fail(error!);
        }

        if (ToolContext.RejectServiceName(serviceName))
        {
            return ToolContext.Failure;
        }

        TimeSpan grace = TimeSpan.FromSeconds(graceSeconds);
        using ILoggerFactory loggerFactory = ToolContext.CreateLoggerFactory(verbose);
        ILogger logger = loggerFactory.CreateLogger("machctl.expose");
        using ShutdownSignal shutdown = new();
        IConnectionListener listener;
        try
        {
            listener = await MachServiceListener.BindAsync(serviceName, loggerFactory, shutdown.Token);
        }
        catch (Exception ex) when (ex is AddressInUseException or MachBootstrapException or MachException or PlatformNotSupportedException)
        {
            return ToolContext.Fail(ex.Message);
        }

        using var connections = new ConnectionSet(logger);
        await using (listener)
        {
            Console.WriteLine($"registered Mach service {serviceName}, forwarding to {target}");
            while (await listener.AcceptAsync(shutdown.Token) is ConnectionContext connection)
            {
                connections.Start(id => ServeAsync(id, new MachEnd(connection), target, logger, connections.AbortToken));
            }

            // The name goes first, so no new client is accepted while the open connections finish.
            await listener.UnbindAsync();
            await connections.DrainAsync(grace);
        }

        return ToolContext.Success;
    }

    private static async Task ServeAsync(long id, MachEnd mach, SocketAddress target, ILogger logger, CancellationToken abort)
    {
        Socket socket;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
            timeout.CancelAfter(ConnectTimeout);
            socket = await target.ConnectAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // Refused, unreachable or too slow: this one Mach client is reset, the service goes on.
            string reason = ex is OperationCanceledException ? $"no answer within {ConnectTimeout.TotalSeconds:0} s" : ex.Message;
            Log.TargetUnreachable(logger, id, target.Text, reason);
            mach.Abort($"machctl could not reach {target}: {reason}");
            await mach.DisposeAsync();
            return;
        }

        await Splice.JoinAsync(id, socket, mach, logger, abort);
    }
}
