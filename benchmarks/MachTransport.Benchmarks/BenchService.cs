// The gRPC service of the server process: echo, upload, a stream of small messages, and the process's own counters.
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using MachTransport.Benchmarks.Grpc;

namespace MachTransport.Benchmarks;

internal sealed class BenchService : Bench.BenchBase
{
    private static readonly Payload s_empty = new();

    public override Task<Payload> Echo(Payload request, ServerCallContext context) => Task.FromResult(request);

    public override Task<Payload> Upload(Payload request, ServerCallContext context) => Task.FromResult(s_empty);

    public override async Task Stream(StreamRequest request, IServerStreamWriter<Payload> responseStream, ServerCallContext context)
    {
        var message = new Payload { Data = ByteString.CopyFrom(new byte[request.Size]) };
        for (int i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(message);
        }
    }

    public override Task<ServerStats> Stats(StatsRequest request, ServerCallContext context)
    {
        if (request.Collect)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        using var process = Process.GetCurrentProcess();
        return Task.FromResult(new ServerStats
        {
            AllocatedBytes = GC.GetTotalAllocatedBytes(precise: true),
            ManagedHeapBytes = GC.GetTotalMemory(forceFullCollection: false),
            ResidentBytes = process.WorkingSet64,
        });
    }
}
