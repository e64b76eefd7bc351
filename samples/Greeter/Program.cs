// The Greeter sample. Without arguments: the demo (server as a child process over Mach, a client, the replies).
// "serve <mach-service> [--tcp <port>]": the server part alone, until Ctrl+C or SIGTERM (or "stop" on stdin).
using System.Globalization;
using System.Net;
using Greeter;
using MachTransport.Samples;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

const string DefaultService = "com.example.greeter";

return args switch
{
    [] => await GreeterDemo.RunAsync(DefaultService),
    ["demo", string service] => await GreeterDemo.RunAsync(service),
    ["serve", string service] => await ServeAsync(service, tcpPort: null),
    ["serve", string service, "--tcp", string port] => await ServeAsync(service, int.Parse(port, CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Greeter [demo <mach-service>] | serve <mach-service> [--tcp <port>]");
    return 2;
}

// The server part: Greeter, gRPC health checking and server reflection on the Mach service (HTTP/2) and, if asked, on
// a TCP port.
static Task<int> ServeAsync(string serviceName, int? tcpPort)
{
    WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
    SampleLogging.Configure(builder.Logging);

    // What a Kestrel app needs to serve on Mach: the transport, and a Mach service to listen on.
    builder.WebHost.UseMachTransport();
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(serviceName));
    if (tcpPort is int port)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
    }

    builder.Services.AddGrpc();
    // The Greeter depends on nothing, so its one check is "the process serves"; a real service would check its stores.
    builder.Services.AddGrpcHealthChecks().AddCheck("greeter", () => HealthCheckResult.Healthy());
    builder.Services.AddGrpcReflection();

    WebApplication app = builder.Build();
    app.MapGrpcService<GreeterService>();
    app.MapGrpcHealthChecksService();
    app.MapGrpcReflectionService();
    return SampleServerHost.RunAsync(app);
}
