using System.Text;
using EchoFiles.Protos;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples;

namespace EchoFiles;

/// <summary>The demo: the server as a child process; this process sends a message, the same again, then one too large.</summary>
internal static class EchoDemo
{
    public static async Task<int> RunAsync(string serviceName, string directory)
    {
        bool asExpected;
        await using (ServerChildProcess server = await ServerChildProcess.StartAsync("--service", serviceName, "--dir", directory))
        {
            Console.WriteLine($"server pid {server.Id} echoes on Mach service {serviceName}; this client is pid {Environment.ProcessId}");
            using GrpcChannel channel = MachGrpcChannel.ForService(serviceName);
            var client = new Echoer.EchoerClient(channel);
            string file = Path.Combine(directory, $"{Environment.ProcessId}");
            byte[] hello = Encoding.UTF8.GetBytes("hello over Mach");

            bool first = await EchoClient.SendAsync(client, [hello], EchoClient.DefaultDeadline);
            Console.WriteLine(File.Exists(file) ? $"{file} holds \"{File.ReadAllText(file)}\"" : $"{file} is missing");
            bool again = await EchoClient.SendAsync(client, [hello], EchoClient.DefaultDeadline);
            Console.WriteLine(File.Exists(file) ? $"{file} is still there" : $"the same message again: {file} deleted");
            bool tooLarge = await EchoClient.SendAsync(client, [new byte[EchoService.MaxMessageBytes + 1]], EchoClient.DefaultDeadline);
            asExpected = first && again && !tooLarge && !File.Exists(file);
        }

        return asExpected ? 0 : 1;
    }
}
