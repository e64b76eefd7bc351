// The scenarios of a run and the clients they use: gRPC (unary small, 1 MiB and 16 MiB echo, a server stream of
// small messages) per server variant, and on the main server long runs of small unary calls (the latency tail); on the raw channel and a raw Unix socket, the 64-byte round trip (and the
// floor) and a 1 MiB echo, which shows what the transports themselves move without HTTP/2 and gRPC on top.
using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Benchmarks.Grpc;

namespace MachTransport.Benchmarks;

internal sealed class Catalog : IAsyncDisposable
{
    public const int SmallSize = 64;

    /// <summary>The payload of grpc-unary-sustained, as in issue 17's measurement.</summary>
    public const int SustainedSize = 16;

    /// <summary>Calls per batch of grpc-unary-sustained: thousands in a row, where a slow phase shows as a burst of slow calls.</summary>
    public const int SustainedBatch = 5000;

    private readonly List<IDisposable> _owned = [];
    private readonly List<Stream> _streams = [];
    private readonly Dictionary<int, ByteString> _payloads = [];

    public List<Scenario> Scenarios { get; } = [];

    public static async Task<Catalog> BuildAsync(Settings settings, ServerProcess main, IReadOnlyList<ServerProcess> variants, StatsProbe probe)
    {
        var catalog = new Catalog();
        int scale = settings.BatchScale;
        catalog.AddGrpc(settings, main, probe, mainServer: true, scale);
        foreach (ServerProcess server in variants)
        {
            catalog.AddGrpc(settings, server, null, mainServer: false, scale);
        }

        await catalog.AddChannelRoundTripAsync(settings, main, probe, scale);
        await catalog.AddChannelEchoAsync(settings, main, probe, scale);
        catalog.Scenarios.RemoveAll(s => s.Cases.Count == 0);
        return catalog;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Stream stream in _streams)
        {
            await stream.DisposeAsync();
        }

        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }
    }

    private static long Elapsed(long start) => Stopwatch.GetTimestamp() - start;

    private ByteString Payload(int size)
    {
        if (!_payloads.TryGetValue(size, out ByteString? payload))
        {
            byte[] bytes = new byte[size];
            Random.Shared.NextBytes(bytes);
            _payloads[size] = payload = ByteString.CopyFrom(bytes);
        }

        return payload;
    }

    private void AddGrpc(Settings settings, ServerProcess server, StatsProbe? probe, bool mainServer, int scale)
    {
        string suffix = server.Variant.Suffix;
        var clients = new Dictionary<string, Bench.BenchClient>();
        Bench.BenchClient Client(string transport)
        {
            if (!clients.TryGetValue(transport, out Bench.BenchClient? client))
            {
                GrpcChannel channel = GrpcClients.Create(transport, server);
                _owned.Add(channel);
                clients[transport] = client = new Bench.BenchClient(channel);
            }

            return client;
        }

        Func<Task<long>>? serverAllocated = probe is null ? null : probe.AllocatedAsync;
        List<Case> Cases(string scenario, Func<Bench.BenchClient, BatchRunner> runner)
            => [.. GrpcClients.Transports.Where(t => settings.Includes(scenario, t)).Select(t => new Case(t, runner(Client(t)), serverAllocated, server.Pid))];

        const string Unary = "grpc-unary";
        var small = new Payload { Data = Payload(SmallSize) };
        Scenarios.Add(new Scenario(Unary, suffix, ScenarioKind.Latency, "µs", 100 * scale, Cases(Unary + suffix, client => (count, latencies) => UnaryCallsAsync(client, small, count, latencies))));
        if (mainServer)
        {
            const string Sustained = "grpc-unary-sustained";
            var tiny = new Payload { Data = Payload(SustainedSize) };
            Scenarios.Add(new Scenario(Sustained, suffix, ScenarioKind.Latency, "µs", SustainedBatch * scale, Cases(Sustained + suffix, client => (count, latencies) => UnaryCallsAsync(client, tiny, count, latencies))));
        }

        foreach ((string name, int size, int batch) in new[] { ("grpc-1mib", 1 << 20, 4 * scale), ("grpc-16mib", 16 << 20, scale) })
        {
            string scenario = name + suffix;
            var message = new Payload { Data = Payload(size) };
            Scenarios.Add(new Scenario(name, suffix, ScenarioKind.Throughput, "MB/s", batch, Cases(scenario, client => async (count, _) =>
            {
                for (int i = 0; i < count; i++)
                {
                    Payload reply = await client.EchoAsync(message);
                    if (reply.Data.Length != size)
                    {
                        throw new InvalidOperationException($"The echo returned {reply.Data.Length} bytes, not {size}.");
                    }
                }

                return 2L * size * count;
            })));
        }

        if (mainServer)
        {
            // A request body alone (the reply is empty): the direction SocketsHttpHandler writes frame by frame.
            const string Upload = "grpc-upload-16mib";
            const int UploadSize = 16 << 20;
            var upload = new Payload { Data = Payload(UploadSize) };
            Scenarios.Add(new Scenario(Upload, suffix, ScenarioKind.Throughput, "MB/s", scale, Cases(Upload + suffix, client => async (count, _) =>
            {
                for (int i = 0; i < count; i++)
                {
                    Payload reply = await client.UploadAsync(upload);
                    if (!reply.Data.IsEmpty)
                    {
                        throw new InvalidOperationException($"The upload returned {reply.Data.Length} bytes, not none.");
                    }
                }

                return (long)UploadSize * count;
            })));
        }

        if (mainServer)
        {
            const string Stream = "grpc-stream-msgs";
            string scenario = Stream + suffix;
            Scenarios.Add(new Scenario(Stream, suffix, ScenarioKind.Throughput, "msg/s", 1000 * scale, Cases(scenario, client => async (count, _) =>
            {
                using AsyncServerStreamingCall<Payload> call = client.Stream(new StreamRequest { Count = count, Size = SmallSize });
                long received = 0;
                await foreach (Payload reply in call.ResponseStream.ReadAllAsync())
                {
                    received++;
                }

                return received;
            })));
        }
    }

    private static async Task<long> UnaryCallsAsync(Bench.BenchClient client, Payload payload, int count, List<long> latencies)
    {
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            _ = await client.EchoAsync(payload);
            latencies.Add(Elapsed(start));
        }

        return count;
    }

    private async Task AddChannelRoundTripAsync(Settings settings, ServerProcess server, StatsProbe probe, int scale)
    {
        const string Name = "channel-rtt";
        List<Case> cases = await RawStreamCasesAsync(settings, Name, server, probe, stream => (count, latencies) => StreamRoundTripsAsync(stream, count, latencies));
        if (settings.Includes(Name, "floor"))
        {
            Socket floor = FloorEcho.Connect(server.Addresses.FloorPath);
            _owned.Add(floor);
            cases.Add(new Case("floor", (count, latencies) => Task.FromResult(FloorRoundTrips(floor, count, latencies)), ServerPid: server.Pid));
        }

        Scenarios.Add(new Scenario(Name, "", ScenarioKind.Latency, "µs", 500 * scale, cases));
    }

    private async Task AddChannelEchoAsync(Settings settings, ServerProcess server, StatsProbe probe, int scale)
    {
        const string Name = "channel-1mib";
        List<Case> cases = await RawStreamCasesAsync(settings, Name, server, probe, stream => (count, _) => StreamEchoesAsync(stream, 1 << 20, count));
        Scenarios.Add(new Scenario(Name, "", ScenarioKind.Throughput, "MB/s", 8 * scale, cases));
    }

    /// <summary>One case per raw transport (a connection of its own to the raw Mach echo, one to the raw Unix socket echo).</summary>
    private async Task<List<Case>> RawStreamCasesAsync(Settings settings, string name, ServerProcess server, StatsProbe probe, Func<Stream, BatchRunner> runner)
    {
        var cases = new List<Case>();
        if (settings.Includes(name, "mach"))
        {
            Stream mach = await new MachConnectionFactory(GrpcClients.MachOptions(Variant.Default)).ConnectStreamAsync(new MachEndPoint(server.Addresses.RawMachService));
            _streams.Add(mach);
            cases.Add(new Case("mach", runner(mach), probe.AllocatedAsync, server.Pid));
        }

        if (settings.Includes(name, "uds"))
        {
            Stream uds = await GrpcClients.ConnectUnixAsync(server.Addresses.RawUdsPath, CancellationToken.None);
            _streams.Add(uds);
            cases.Add(new Case("uds", runner(uds), probe.AllocatedAsync, server.Pid));
        }

        return cases;
    }

    /// <summary>Writes <paramref name="size"/> bytes and reads the echo back, concurrently (neither side buffers it all).</summary>
    private static async Task<long> StreamEchoesAsync(Stream stream, int size, int count)
    {
        byte[] message = ArrayPool<byte>.Shared.Rent(size);
        byte[] reply = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            for (int i = 0; i < count; i++)
            {
                Task sent = WriteAndFlushAsync(stream, message.AsMemory(0, size));
                await stream.ReadExactlyAsync(reply.AsMemory(0, size));
                await sent;
            }

            return 2L * size * count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
            ArrayPool<byte>.Shared.Return(reply);
        }
    }

    private static async Task WriteAndFlushAsync(Stream stream, ReadOnlyMemory<byte> data)
    {
        await stream.WriteAsync(data);
        await stream.FlushAsync();
    }

    private static async Task<long> StreamRoundTripsAsync(Stream stream, int count, List<long> latencies)
    {
        byte[] message = new byte[SmallSize];
        byte[] reply = new byte[SmallSize];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await stream.WriteAsync(message);
            await stream.FlushAsync();
            await stream.ReadExactlyAsync(reply);
            latencies.Add(Elapsed(start));
        }

        return count;
    }

    private static long FloorRoundTrips(Socket socket, int count, List<long> latencies)
    {
        byte[] message = new byte[FloorEcho.MessageSize];
        byte[] reply = new byte[FloorEcho.MessageSize];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            _ = socket.Send(message);
            _ = socket.Receive(reply);
            latencies.Add(Elapsed(start));
        }

        return count;
    }
}
