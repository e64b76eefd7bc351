// machctl: bridge sockets to Mach services and back, ping a service's handshake, list and prune the registered names.
using System.CommandLine;
using System.Runtime.Versioning;
using MachTransport.Tools;

// Mach runs on macOS and, emulated, on Linux: never on Windows.
[assembly: UnsupportedOSPlatform("windows")]

var root = new RootCommand("machctl: tools for MachTransport's Mach services (HTTP/2 and gRPC over Mach ports).")
{
    BridgeCommand.Create(),
    ExposeCommand.Create(),
    PingCommand.Create(),
    ListCommand.Create(),
    PruneCommand.Create(),
    ToolContext.Verbose,
};

// Ctrl+C and SIGTERM are handled by the commands themselves (ShutdownSignal): they drain within their grace period.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
