using System.Diagnostics;
using Greet;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MachTransport.Grpc;

namespace Greeter;

/// <summary>The demo: starts the server part as a child process on Mach, calls it, prints the replies, stops it.</summary>
internal static class GreeterDemo
{
    public static async Task<int> RunAsync(string serviceName)
    {
        using Process server = StartServer(serviceName);
        try
        {
            string? ready = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (ready != "READY")
            {
                Console.Error.WriteLine($"The server did not start: {ready ?? await server.StandardError.ReadToEndAsync()}");
                return 1;
            }

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
        }
        finally
        {
            await StopAsync(server);
        }

        return server.ExitCode;
    }

    private static string Backend => OperatingSystem.IsMacOS() ? "the Darwin kernel's Mach IPC" : "the Linux emulation of Mach IPC";

    private static Process StartServer(string serviceName)
    {
        // Under "dotnet Greeter.dll" the process is the dotnet host; under "dotnet run" it is the apphost.
        string host = Environment.ProcessPath!;
        var info = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(GreeterDemo).Assembly.Location);
        }

        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(serviceName);
        return Process.Start(info)!;
    }

    private static async Task StopAsync(Process server)
    {
        if (server.HasExited)
        {
            return;
        }

        await server.StandardInput.WriteLineAsync("stop");
        try
        {
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Console.WriteLine($"server stopped (exit code {server.ExitCode})");
        }
        catch (TimeoutException)
        {
            server.Kill(entireProcessTree: true);
            throw;
        }
    }
}
