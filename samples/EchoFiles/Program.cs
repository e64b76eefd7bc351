// The EchoFiles sample: an echo server over Mach that keeps each client process's last message in a file named
// after its kernel-verified pid; the same message again deletes the file.
//   EchoFiles [demo [NAME]]     the server as a child process, and a scripted client against it
//   EchoFiles serve [NAME]      the server alone, on NAME (the same as --service NAME), until Ctrl+C or SIGTERM (or
//                               "stop" on stdin); with --helper-for UID a privileged helper:
//                               root's server in the system domain, for the processes of user UID alone
//   EchoFiles client [DATA...]  sends each DATA (or else stdin) as one message; exit code 0 when every echo is identical
// Options: --service NAME (default com.machtransport.echofiles), --dir PATH (the server's data folder),
// --deadline SECONDS (the client's call, connecting included, default 30).
using System.Text;
using EchoFiles;
using EchoFiles.Protos;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples;
using MachTransport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

if (SampleArguments.Parse(args, "--service", "--dir", "--deadline", "--helper-for") is not SampleArguments arguments)
{
    return 2;
}

string service = arguments.Option("--service", "com.machtransport.echofiles");
string directory = arguments.Option("--dir", EchoFolder.DefaultDirectory);
TimeSpan deadline = EchoClient.DefaultDeadline;
if (arguments.Option("--deadline", "") is { Length: > 0 } seconds)
{
    if (!int.TryParse(seconds, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) || value <= 0)
    {
        Console.Error.WriteLine("--deadline takes a positive number of seconds");
        return 2;
    }

    deadline = TimeSpan.FromSeconds(value);
}

uint? helperFor = null;
if (arguments.Option("--helper-for", "") is { Length: > 0 } user)
{
    if (!uint.TryParse(user, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint uid))
    {
        Console.Error.WriteLine("--helper-for takes a numeric user id");
        return 2;
    }

    helperFor = uid;
}

switch (arguments.Mode)
{
    case "demo" or "serve":
        // The words after the mode name the service: never ignored, refused when they say something else.
        if (arguments.ServiceOfServer(service) is not string served)
        {
            return 2;
        }

        return arguments.Mode == "demo" ? await EchoDemo.RunAsync(served, directory) : await ServeAsync(served, directory, helperFor);
    case "client":
        // Connecting is part of the call: the server may take as long to accept as the deadline allows (a busy machine).
        using (GrpcChannel channel = MachGrpcChannel.ForService(service, clientOptions: new MachClientOptions { ConnectTimeout = deadline }))
        {
            IEnumerable<byte[]> messages = arguments.Values.Count > 0 ? arguments.Values.Select(Encoding.UTF8.GetBytes) : [await ReadStdinAsync()];
            return await EchoClient.SendAsync(new Echoer.EchoerClient(channel), messages, deadline) ? 0 : 1;
        }

    default:
        Console.Error.WriteLine("usage: EchoFiles [demo [NAME] | serve [NAME] [--helper-for UID] | client [DATA...]] [--service NAME] [--dir PATH] [--deadline SECONDS]");
        return 2;
}

// The server part: the Echoer service on a Mach service, its files in directory. As a privileged helper for the user
// helperFor, the server (root) registers the name in the system domain, where that user's processes find it, and
// admits that user's processes alone.
static Task<int> ServeAsync(string serviceName, string directory, uint? helperFor)
{
    WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
    SampleLogging.Configure(builder.Logging);

    // What a Kestrel app needs to serve on Mach: the transport, and a Mach service to listen on. Each connection's client
    // is recorded when the connection is admitted (its pid, and when that process started), for the files' names.
    var clients = new ClientProcesses();
    builder.WebHost.UseMachTransport(options =>
    {
        if (helperFor is uint uid)
        {
            options.PeerPolicy = peer => peer.Uid == uid; // by default, the server's own user's processes alone
        }
    });
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(
        serviceName,
        helperFor is null ? MachBootstrapDomain.User : MachBootstrapDomain.System,
        listen => listen.Use(clients.Middleware)));

    builder.Services.AddGrpc();
    builder.Services.AddSingleton(clients);
    builder.Services.AddSingleton(services => new EchoFolder(directory, services.GetRequiredService<ILogger<EchoFolder>>()));
    WebApplication app = builder.Build();
    app.MapGrpcService<EchoService>();
    return SampleServerHost.RunAsync(app);
}

static async Task<byte[]> ReadStdinAsync()
{
    using var buffer = new MemoryStream();
    await Console.OpenStandardInput().CopyToAsync(buffer);
    return buffer.ToArray();
}
