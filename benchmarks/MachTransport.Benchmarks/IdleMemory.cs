// Memory per idle connection in the server: N gRPC channels per transport, each on its own connection with one call
// made, then the server's managed heap and resident set (after a full collection) compared with before.
using Grpc.Net.Client;
using MachTransport.Benchmarks.Grpc;

namespace MachTransport.Benchmarks;

internal static class IdleMemory
{
    /// <param name="Transport">mach, uds or tcp.</param>
    /// <param name="ManagedBytes">Server managed heap growth per connection.</param>
    /// <param name="ResidentBytes">Server resident set growth per connection (pages the allocator keeps count too).</param>
    internal sealed record Result(string Transport, int Connections, double ManagedBytes, double ResidentBytes);

    public static async Task<List<Result>> MeasureAsync(Settings settings, ServerProcess server, StatsProbe probe)
    {
        var results = new List<Result>();
        int count = settings.IdleConnections;
        foreach (string transport in GrpcClients.Transports.Where(t => settings.Includes("idle-connection", t)))
        {
            ServerStats before = await probe.CollectAsync();
            var channels = new List<GrpcChannel>(count);
            try
            {
                for (int i = 0; i < count; i++)
                {
                    // Each channel has its own handler, so each is its own connection.
                    GrpcChannel channel = GrpcClients.Create(transport, server);
                    channels.Add(channel);
                    _ = await new Bench.BenchClient(channel).EchoAsync(new Payload());
                }

                ServerStats after = await probe.CollectAsync();
                results.Add(new Result(
                    transport,
                    count,
                    (after.ManagedHeapBytes - before.ManagedHeapBytes) / (double)count,
                    (after.ResidentBytes - before.ResidentBytes) / (double)count));
            }
            finally
            {
                foreach (GrpcChannel channel in channels)
                {
                    channel.Dispose();
                }
            }
        }

        return results;
    }
}
