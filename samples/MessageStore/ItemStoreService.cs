using Grpc.Core;
using MachTransport.Grpc;
using MachTransport.Samples;
using MessageStore.Protos;
using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>
/// The ItemStore service over <see cref="ItemQueues"/>. An item is stored whole or not at all: the gRPC server calls a
/// unary handler only once the request message has arrived complete, so a client that dies mid-transfer never gets here.
/// Leases belong to the HTTP connection that retrieved the item (its id, as Kestrel names it).
/// </summary>
internal sealed partial class ItemStoreService(ItemQueues queues, ILogger<ItemStoreService> logger) : ItemStore.ItemStoreBase
{
    public const int MaxItemBytes = 64 * 1024 * 1024;

    /// <summary>What a Store request may weigh beyond its item: the queue name and the protobuf framing.</summary>
    public const int MaxRequestOverhead = 64 * 1024;

    private const int MaxQueueNameLength = 256;

    // Any client can ask for refusals as fast as it likes: the first few are logged, the rest counted.
    private static readonly LogBudget RefusalLog = new(linesPerWindow: 5, window: TimeSpan.FromSeconds(10));

    public override Task<StoreReply> Store(StoreRequest request, ServerCallContext context)
    {
        int pid = PeerPid(context);
        CheckQueueName(request.Queue);
        if (request.ClientRef.Length > MaxQueueNameLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A client reference has at most {MaxQueueNameLength} characters."));
        }

        if (request.Data.Length > MaxItemBytes)
        {
            Refuse(pid, request.Data.Length, request.Queue, "more than 64 MiB");
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"An item may have at most {MaxItemBytes} bytes (64 MiB); this one has {request.Data.Length}."));
        }

        if (queues.TryAdd(request.Queue, request.Data, request.ClientRef, out string? refusal, out int waiting) is not StoredItem item)
        {
            Refuse(pid, request.Data.Length, request.Queue, refusal!);
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Not stored: {refusal}."));
        }

        LogStored(pid, item.Id, item.Length, request.Queue, waiting);
        return Task.FromResult(new StoreReply { Id = item.Id });
    }

    public override Task<RetrieveReply> Retrieve(RetrieveRequest request, ServerCallContext context)
    {
        int pid = PeerPid(context);
        CheckQueueName(request.Queue);
        if (queues.TakeOnLease(request.Queue, ConnectionOf(context), pid, out int waiting) is StoredItem item)
        {
            LogLeased(pid, item.Id, item.Length, request.Queue, waiting);
            return Task.FromResult(new RetrieveReply { Id = item.Id, Data = queues.ReadData(item), ClientRef = item.ClientRef, LeaseSeconds = (int)queues.Limits.LeaseTime.TotalSeconds });
        }

        LogEmpty(pid, request.Queue);
        return Task.FromResult(new RetrieveReply { Empty = true });
    }

    public override Task<ConfirmReply> Confirm(ConfirmRequest request, ServerCallContext context)
    {
        int pid = PeerPid(context);
        CheckQueueName(request.Queue);
        if (!queues.Confirm(request.Queue, request.Id, ConnectionOf(context)))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"No lease of this connection on item {request.Id}: it was not confirmed in time and went back to queue '{request.Queue}'."));
        }

        LogConfirmed(pid, request.Id, request.Queue);
        return Task.FromResult(new ConfirmReply());
    }

    private static int PeerPid(ServerCallContext context) => context.GetMachPeer()?.Pid ?? 0;

    private static string ConnectionOf(ServerCallContext context) => context.GetHttpContext().Connection.Id;

    private static void CheckQueueName(string name)
    {
        if (name.Length is 0 or > MaxQueueNameLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A queue name has 1 to {MaxQueueNameLength} characters."));
        }
    }

    private void Refuse(int pid, int bytes, string queue, string why)
    {
        if (RefusalLog.TryTake(out long notLogged))
        {
            LogRefused(pid, bytes, queue, why, notLogged);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: stored item {Id} ({Bytes} bytes) in queue '{Queue}' ({Count} waiting)")]
    private partial void LogStored(int pid, string id, int bytes, string queue, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: refused an item of {Bytes} bytes for queue '{Queue}': {Why}; {NotLogged} refusals before this one were not logged")]
    private partial void LogRefused(int pid, int bytes, string queue, string why, long notLogged);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: leased item {Id} ({Bytes} bytes) from queue '{Queue}' until it confirms ({Count} waiting)")]
    private partial void LogLeased(int pid, string id, int bytes, string queue, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: confirmed item {Id} of queue '{Queue}': removed")]
    private partial void LogConfirmed(int pid, string id, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: queue '{Queue}' is empty")]
    private partial void LogEmpty(int pid, string queue);
}
