using System.Collections.Concurrent;
using Grpc.Core;
using MachTransport.Grpc;
using MessageStore.Protos;
using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>
/// The ItemStore service: a FIFO queue per name, in memory. Registered as a singleton, so the queues outlive calls.
/// An item is stored whole or not at all: the gRPC server calls a unary handler only once the request message has
/// arrived complete, so a client that dies mid-transfer never gets here.
/// </summary>
internal sealed partial class ItemStoreService(ILogger<ItemStoreService> logger) : ItemStore.ItemStoreBase
{
    public const int MaxItemBytes = 64 * 1024 * 1024;

    /// <summary>What a Store request may weigh beyond its item: the queue name and the protobuf framing.</summary>
    public const int MaxRequestOverhead = 64 * 1024;

    private const int MaxQueueNameLength = 256;

    private readonly ConcurrentDictionary<string, ConcurrentQueue<Item>> _queues = new(StringComparer.Ordinal);

    public override Task<StoreReply> Store(StoreRequest request, ServerCallContext context)
    {
        int pid = PeerPid(context);
        CheckQueueName(request.Queue);
        if (request.Data.Length > MaxItemBytes)
        {
            LogRefused(pid, request.Data.Length, request.Queue);
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"An item may have at most {MaxItemBytes} bytes (64 MiB); this one has {request.Data.Length}."));
        }

        var item = new Item(Guid.NewGuid().ToString("N"), request.Data);
        ConcurrentQueue<Item> queue = _queues.GetOrAdd(request.Queue, static _ => new ConcurrentQueue<Item>());
        queue.Enqueue(item);
        LogStored(pid, item.Id, item.Data.Length, request.Queue, queue.Count);
        return Task.FromResult(new StoreReply { Id = item.Id });
    }

    public override Task<RetrieveReply> Retrieve(RetrieveRequest request, ServerCallContext context)
    {
        int pid = PeerPid(context);
        CheckQueueName(request.Queue);
        if (_queues.TryGetValue(request.Queue, out ConcurrentQueue<Item>? queue) && queue.TryDequeue(out Item? item))
        {
            LogRetrieved(pid, item.Id, item.Data.Length, request.Queue, queue.Count);
            return Task.FromResult(new RetrieveReply { Id = item.Id, Data = item.Data });
        }

        LogEmpty(pid, request.Queue);
        return Task.FromResult(new RetrieveReply { Empty = true });
    }

    private static int PeerPid(ServerCallContext context) => context.GetMachPeer()?.Pid ?? 0;

    private static void CheckQueueName(string name)
    {
        if (name.Length is 0 or > MaxQueueNameLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A queue name has 1 to {MaxQueueNameLength} characters."));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: stored item {Id} ({Bytes} bytes) in queue '{Queue}' ({Count} waiting)")]
    private partial void LogStored(int pid, string id, int bytes, string queue, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: refused an item of {Bytes} bytes for queue '{Queue}' (more than 64 MiB)")]
    private partial void LogRefused(int pid, int bytes, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: retrieved item {Id} ({Bytes} bytes) from queue '{Queue}' ({Count} waiting)")]
    private partial void LogRetrieved(int pid, string id, int bytes, string queue, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: queue '{Queue}' is empty")]
    private partial void LogEmpty(int pid, string queue);

    private sealed record Item(string Id, Google.Protobuf.ByteString Data);
}
