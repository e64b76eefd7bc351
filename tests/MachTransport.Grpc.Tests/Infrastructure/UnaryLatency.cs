using System.Diagnostics;
using System.Globalization;
using MachTransport.Grpc.Tests.Protos;

namespace MachTransport.Grpc.Tests.Infrastructure;

/// <summary>
/// "measure": unary round-trip latency to one server process over Mach and over TCP h2c, rounds interleaved so
/// both see the same machine load. A measurement printed for people, never asserted.
/// </summary>
internal static class UnaryLatency
{
    private const int Rounds = 5;
    private const int CallsPerRound = 2000;

    public static async Task<int> RunAsync()
    {
        string service = TestEnvironment.UniqueServiceName("measure");
        await using ChildProcess server = ChildProcess.StartTesterServer(service);
        string ready = await server.ReadLineAsync(TimeSpan.FromSeconds(60));
        int port = int.Parse(ready["READY ".Length..], CultureInfo.InvariantCulture);

        using GrpcChannel mach = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = MachTransport.Client.MachHttpHandler.Create(service) });
        using GrpcChannel tcp = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var transports = new (string Name, Tester.TesterClient Client, List<double> Microseconds)[]
        {
            ("Mach", new Tester.TesterClient(mach), []),
            ("TCP ", new Tester.TesterClient(tcp), []),
        };
        var request = new EchoRequest { Message = "ping" };

        foreach ((_, Tester.TesterClient client, _) in transports)
        {
            for (int i = 0; i < 500; i++)
            {
                await client.EchoAsync(request); // warm-up: connection, JIT, pools
            }
        }

        for (int round = 0; round < Rounds; round++)
        {
            foreach ((_, Tester.TesterClient client, List<double> samples) in transports)
            {
                for (int i = 0; i < CallsPerRound; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    await client.EchoAsync(request);
                    samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
            }
        }

        Console.WriteLine($"unary Echo round trip, one client, sequential calls, {Rounds}x{CallsPerRound} per transport, cross-process:");
        foreach ((string name, _, List<double> samples) in transports)
        {
            samples.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}  median {Percentile(samples, 0.5):F0} us   p90 {Percentile(samples, 0.9):F0} us   p99 {Percentile(samples, 0.99):F0} us"));
        }

        await server.WriteLineAsync("stop");
        await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return 0;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, p * sorted.Count)];
}
