// Test host for the transport tests: "serve <service> [--deny-peers]" runs an ASP.NET Core app on the Mach
// services <service> (HTTP/2) and <service>.h1 (HTTP/1.1) and on TCP 127.0.0.1:0, prints "READY <tcp port>",
// and stops gracefully when a line "stop" arrives on stdin ("--keepalive <s>": Kestrel's idle-connection timeout;
// "--per-peer <n>": MaxConnectionsPerPeerProcess; "--system": both Mach services in the system domain; "--admit <uid>":
// the peer policy admits that uid too; "--stall <s>": Limits.CreditStallTimeout; "--shutdown <s>": HostOptions.ShutdownTimeout, 20 s by default). "client <service> <path>" sends one
// HTTP/2 GET over Mach and prints the status (used to have a client process to kill); "get <service> <path>" prints the
// status and the body, or the error.
using MachTransport.TestHost;

return args switch
{
    ["serve", string service, .. string[] rest] => await Host.ServeAsync(service, denyPeers: rest.Contains("--deny-peers"), inlineThreshold: IntArgument(rest, "--inline"), keepAliveSeconds: IntArgument(rest, "--keepalive"), connectionsPerPeer: IntArgument(rest, "--per-peer"), systemDomain: rest.Contains("--system"), admitUid: IntArgument(rest, "--admit"), stallSeconds: IntArgument(rest, "--stall"), shutdownSeconds: IntArgument(rest, "--shutdown")),
    ["client", string service, string path] => await Host.ClientAsync(service, path),
    ["get", string service, string path] => await Host.GetAsync(service, path),
    ["measure", string service] => await Measurement.RunAsync(service),
    _ => Usage(),
};

static int? IntArgument(string[] rest, string name)
{
    int at = Array.IndexOf(rest, name);
    return at >= 0 && at + 1 < rest.Length ? int.Parse(rest[at + 1], System.Globalization.CultureInfo.InvariantCulture) : null;
}

static int Usage()
{
    Console.Error.WriteLine("usage: serve <service> [--deny-peers] [--inline <bytes>] [--keepalive <seconds>] [--per-peer <connections>] [--system] [--admit <uid>] [--stall <seconds>] [--shutdown <seconds>] | client|get <service> <path> | measure <service>");
    return 2;
}
