// Reads a server process's allocated bytes through its Stats call (over TCP, whatever the measured transport),
// with the probe's own allocations taken out.
using Grpc.Net.Client;
using MachTransport.Benchmarks.Grpc;

namespace MachTransport.Benchmarks;

internal sealed class StatsProbe : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Bench.BenchClient _client;
    private long _selfCost;
    private long _reads;

    private StatsProbe(GrpcChannel channel)
    {
        _channel = channel;
        _client = new Bench.BenchClient(channel);
    }

    public static async Task<StatsProbe> CreateAsync(ServerProcess server)
    {
        var probe = new StatsProbe(GrpcClients.Create("tcp", server));
        // What one probe allocates in the server: the smallest of a few back-to-back deltas (after the first call warmed up).
        long previous = (await probe._client.StatsAsync(new StatsRequest())).AllocatedBytes;
        long smallest = long.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long next = (await probe._client.StatsAsync(new StatsRequest())).AllocatedBytes;
            smallest = Math.Min(smallest, next - previous);
            previous = next;
        }

        probe._selfCost = smallest;
        return probe;
    }

    /// <summary>The server's allocated bytes less what the probes so far allocated there.</summary>
    public async Task<long> AllocatedAsync()
    {
        long allocated = (await _client.StatsAsync(new StatsRequest())).AllocatedBytes;
        return allocated - (++_reads * _selfCost);
    }

    public Task<ServerStats> CollectAsync() => _client.StatsAsync(new StatsRequest { Collect = true }).ResponseAsync;

    public void Dispose() => _channel.Dispose();
}
