using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using MachTransport.Grpc;
using MachTransport.Samples;
using MessageStore.Protos;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>
/// The ItemStore service over <see cref="ItemQueues"/>. Items travel in chunks both ways: a Store writes each chunk to
/// the database as it comes and the item exists only once the last one is in (a client that dies mid-transfer leaves
/// nothing); a Retrieve reads the item's chunks one at a time into one buffer. Leases belong to the HTTP connection
/// that retrieved the item (its id, as Kestrel names it).
/// </summary>
internal sealed partial class ItemStoreService(ItemQueues queues, ItemDatabase database, ILogger<ItemStoreService> logger) : ItemStore.ItemStoreBase
{
    public const int MaxItemBytes = 64 * 1024 * 1024;

    /// <summary>The bytes of an item in one message, both ways, and in one row of the database.</summary>
    public const int ChunkBytes = 1024 * 1024;

    /// <summary>What a message may weigh beyond its chunk: the queue name, the client's reference and the protobuf framing.</summary>
    public const int MaxMessageOverhead = 64 * 1024;

    private const int MaxQueueNameLength = 256;

    // Any client can ask for refusals as fast as it likes: the first few are logged, the rest counted.
    private static readonly LogBudget RefusalLog = new(linesPerWindow: 5, window: TimeSpan.FromSeconds(10));

    public override async Task<StoreReply> Store(IAsyncStreamReader<StoreRequest> requests, ServerCallContext context)
    {
        int pid = PeerPid(context);
        if (!await NextAsync(requests, context))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "A Store sends at least one message: the queue, the client's reference and the item's length."));
        }

        StoreRequest first = requests.Current;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        CheckQueueName(first.Queue);
        if (first.ClientRef.Length > MaxQueueNameLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A client reference has at most {MaxQueueNameLength} characters."));
        }

        if (first.Length is < 0 or > MaxItemBytes)
        {
            Refuse(pid, first.Length, first.Queue, "more than 64 MiB");
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"An item may have at most {MaxItemBytes} bytes (64 MiB); this one has {first.Length}."));
        }

        using ItemUpload upload = queues.BeginUpload(first.Queue, (int)first.Length, first.ClientRef, out string? refusal)
            ?? throw Refused(pid, first.Length, first.Queue, refusal!);
        LogReceiving(pid, upload.Length, upload.Queue);
        for (StoreRequest request = first; ; request = requests.Current)
        {
            if (!await AppendAsync(upload, request.Data, context))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"More bytes than the {upload.Length} announced: not stored."));
            }

            if (!await NextOrIdleAsync(requests, upload, idle, pid, context))
            {
                break;
            }
        }

        StoredItem item = upload.Complete()
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"The item ended after {upload.Received} of the {upload.Length} bytes announced: not stored."));
        int waiting = queues.WaitingIn(item.Queue);
        LogStored(pid, item.Id, item.Length, item.Queue, waiting);
        return new StoreReply { Id = item.Id };
    }

    public override async Task Retrieve(RetrieveRequest request, IServerStreamWriter<RetrieveReply> responses, ServerCallContext context)
    {
        int pid = PeerPid(context);
        CheckQueueName(request.Queue);
        if (queues.TakeOnLease(request.Queue, ConnectionOf(context), pid, out int waiting) is not StoredItem item)
        {
            LogEmpty(pid, request.Queue);
            await SendAsync(responses, new RetrieveReply { Empty = true }, context);
            return;
        }

        LogLeased(pid, item.Id, item.Length, request.Queue, waiting);
        await SendAsync(responses, new RetrieveReply { Id = item.Id, Length = item.Length, ClientRef = item.ClientRef, LeaseSeconds = (int)queues.Limits.LeaseTime.TotalSeconds }, context);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            foreach (ChunkRow chunk in database.ChunksOf(item.Upload))
            {
                for (int offset = 0; offset < chunk.Length;)
                {
                    int read = ReadChunk(chunk, offset, buffer.AsSpan(0, ChunkBytes), item);

                    // gRPC has serialized the message into the response by the time the write completes: the buffer is free again.
                    await SendAsync(responses, new RetrieveReply { Data = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, read)) }, context);
                    offset += read;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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

    // A client that goes away mid-call (killed, reset, too slow for Kestrel's data rate) ends the call with CANCELLED,
    // logged at Information by gRPC, rather than an exception gRPC would log as an error of the server's.
    private static async Task<bool> NextAsync(IAsyncStreamReader<StoreRequest> requests, ServerCallContext context)
    {
        try
        {
            return await requests.MoveNext(context.CancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            throw ClientGone(e);
        }
    }

    // The next message of a store under way, or the store given up (ABORTED) when none comes within the idle time.
    private async Task<bool> NextOrIdleAsync(IAsyncStreamReader<StoreRequest> requests, ItemUpload upload, CancellationTokenSource idle, int pid, ServerCallContext context)
    {
        idle.CancelAfter(queues.Limits.StoreIdleTime);
        try
        {
            return await requests.MoveNext(idle.Token);
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            string why = $"no bytes of the item for {queues.Limits.StoreIdleTime.TotalSeconds} s, after {upload.Received} of the {upload.Length} announced";
            Refuse(pid, upload.Length, upload.Queue, why);
            throw new RpcException(new Status(StatusCode.Aborted, $"Not stored: {why}."));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            throw ClientGone(e);
        }
    }

    private static async Task<bool> AppendAsync(ItemUpload upload, ByteString data, ServerCallContext context)
    {
        try
        {
            return await upload.AppendAsync(data.Memory, context.CancellationToken);
        }
        catch (OperationCanceledException e)
        {
            throw ClientGone(e);
        }
    }

    private static async Task SendAsync(IServerStreamWriter<RetrieveReply> responses, RetrieveReply reply, ServerCallContext context)
    {
        try
        {
            await responses.WriteAsync(reply, context.CancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            throw ClientGone(e);
        }
    }

    private int ReadChunk(ChunkRow chunk, int offset, Span<byte> buffer, StoredItem item)
    {
        try
        {
            return database.ReadChunk(chunk, offset, buffer);
        }
        catch (SqliteException e)
        {
            // The lease ran out mid-transfer and another client confirmed the item: it is gone.
            throw new RpcException(new Status(StatusCode.Aborted, $"Item {item.Id} was confirmed by another client while it was sent (this lease ran out): {e.Message}"));
        }
    }

    private static RpcException ClientGone(Exception e) => new(new Status(StatusCode.Cancelled, $"The call ended before it was complete (the client went away, or broke a limit of Kestrel's): {e.Message}"));

    private static int PeerPid(ServerCallContext context) => context.GetMachPeer()?.Pid ?? 0;

    private static string ConnectionOf(ServerCallContext context) => context.GetHttpContext().Connection.Id;

    private static void CheckQueueName(string name)
    {
        if (name.Length is 0 or > MaxQueueNameLength)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A queue name has 1 to {MaxQueueNameLength} characters."));
        }
    }

    private RpcException Refused(int pid, long bytes, string queue, string why)
    {
        Refuse(pid, bytes, queue, why);
        return new RpcException(new Status(StatusCode.ResourceExhausted, $"Not stored: {why}."));
    }

    private void Refuse(int pid, long bytes, string queue, string why)
    {
        if (RefusalLog.TryTake(out long notLogged))
        {
            LogRefused(pid, bytes, queue, why, notLogged);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: receiving an item of {Bytes} bytes for queue '{Queue}', its space taken")]
    private partial void LogReceiving(int pid, int bytes, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: stored item {Id} ({Bytes} bytes) in queue '{Queue}' ({Count} waiting)")]
    private partial void LogStored(int pid, string id, int bytes, string queue, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: refused an item of {Bytes} bytes for queue '{Queue}': {Why}; {NotLogged} refusals before this one were not logged")]
    private partial void LogRefused(int pid, long bytes, string queue, string why, long notLogged);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: leased item {Id} ({Bytes} bytes) from queue '{Queue}' until it confirms ({Count} waiting)")]
    private partial void LogLeased(int pid, string id, int bytes, string queue, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: confirmed item {Id} of queue '{Queue}': removed")]
    private partial void LogConfirmed(int pid, string id, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: queue '{Queue}' is empty")]
    private partial void LogEmpty(int pid, string queue);
}
