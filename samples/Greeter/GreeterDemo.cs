using Greet;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples;

namespace Greeter;

/// <summary>The demo: starts the server part as a child process on Mach, calls it, prints the replies, stops it.</summary>
internal static class GreeterDemo
{
    private static string Backend => OperatingSystem.IsMacOS() ? "the Darwin kernel's Mach IPC" : "the Linux emulation of Mach IPC";

    public static async Task<int> RunAsync(string serviceName)
    {
        await using ServerChildProcess server = await ServerChildProcess.StartAsync(serviceName);
        Console.WriteLine($"server pid {server.Id} listens on Mach service {serviceName}");
        using GrpcChannel channel = MachGrpcChannel.ForService(serviceName);
        var client = new Greet.Greeter.GreeterClient(channel);

        HelloReply reply = await client.SayHelloAsync(new HelloRequest { Name = "Mach" }, deadline: DateTime.UtcNow.AddSeconds(10));
        Console.WriteLine($"SayHello: {reply.Message}");
        Console.WriteLine($"  carried by {reply.Transport} ({Backend}); the server saw client pid {reply.ClientPid}, this process is pid {Environment.ProcessId}");

        using AsyncServerStreamingCall<HelloReply> call = client.SayHellos(new HelloRequest { Name = "Mach" }, deadline: DateTime.UtcNow.AddSeconds(10));
        await foreach (HelloReply streamed in call.ResponseStream.ReadAllAsync())
        {
            Console.WriteLine($"SayHellos: {streamed.Message}");
        }

        Console.WriteLine($"status: {call.GetStatus().StatusCode}");

        HealthCheckResponse health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        Console.WriteLine($"health: {health.Status}");
        return 0;
    }
}
