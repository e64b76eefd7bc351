// The EchoFiles sample: an echo server over Mach that keeps each client process's last message in a file named
// after its kernel-verified pid; the same message again deletes the file.
//   EchoFiles [demo]            the server as a child process, and a scripted client against it
//   EchoFiles serve             the server alone ("stop" on stdin ends it)
//   EchoFiles client [DATA...]  sends each DATA (or else stdin) as one message; exit code 0 when every echo is identical
// Options: --service NAME (default com.machtransport.echofiles), --dir PATH (the server's data folder).
using System.Text;
using EchoFiles;
using EchoFiles.Protos;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples;

if (SampleArguments.Parse(args, "--service", "--dir") is not SampleArguments arguments)
{
    return 2;
}

string service = arguments.Option("--service", "com.machtransport.echofiles");
string directory = arguments.Option("--dir", EchoFolder.DefaultDirectory);
switch (arguments.Mode)
{
    case "demo":
        return await EchoDemo.RunAsync(service, directory);
    case "serve":
        return await EchoServer.RunAsync(service, directory);
    case "client":
        using (GrpcChannel channel = MachGrpcChannel.ForService(service))
        {
            IEnumerable<byte[]> messages = arguments.Values.Count > 0 ? arguments.Values.Select(Encoding.UTF8.GetBytes) : [await ReadStdinAsync()];
            return await EchoClient.SendAsync(new Echoer.EchoerClient(channel), messages) ? 0 : 1;
        }

    default:
        Console.Error.WriteLine("usage: EchoFiles [demo | serve | client [DATA...]] [--service NAME] [--dir PATH]");
        return 2;
}

static async Task<byte[]> ReadStdinAsync()
{
    using var buffer = new MemoryStream();
    await Console.OpenStandardInput().CopyToAsync(buffer);
    return buffer.ToArray();
}
