// The Greeter sample. Without arguments: the demo (server as a child process over Mach, a client, the replies).
// "serve <mach-service> [--tcp <port>]": the server part alone. "client <mach-service>": the demo against it.
using System.Globalization;
using Greeter;

const string DefaultService = "com.example.greeter";

return args switch
{
    [] => await GreeterDemo.RunAsync(DefaultService),
    ["demo", string service] => await GreeterDemo.RunAsync(service),
    ["serve", string service] => await GreeterServer.RunAsync(service, tcpPort: null),
    ["serve", string service, "--tcp", string port] => await GreeterServer.RunAsync(service, int.Parse(port, CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Greeter [demo <mach-service>] | serve <mach-service> [--tcp <port>]");
    return 2;
}
