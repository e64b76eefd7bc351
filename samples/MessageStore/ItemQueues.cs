using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>An item in the store: its id, the queue it is in, its place in the order of arrival, its bytes, the storing client's reference.</summary>
internal sealed record StoredItem(string Id, string Queue, long Sequence, ByteString Data, string ClientRef);

/// <summary>
/// The FIFO queues, within the caps of <see cref="StoreLimits"/>. Retrieval is at least once: a retrieved item is
/// leased to the connection that took it, invisible to others, until that connection confirms it; a lease not
/// confirmed in time, or whose connection ends, puts the item back at the head of its queue, in its original order.
/// </summary>
internal sealed partial class ItemQueues(StoreLimits limits, TimeProvider time, ILogger<ItemQueues> logger)
{
    /// <summary>Items in the whole store, leased ones included: empty items would otherwise escape the byte caps.</summary>
    public const int MaxTotalItems = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ItemQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private long _totalBytes;
    private int _totalItems;
    private long _nextSequence;

    public StoreLimits Limits => limits;

    /// <summary>Appends <paramref name="data"/> to <paramref name="queueName"/>; null with the reason when a cap refuses it.</summary>
    public StoredItem? TryAdd(string queueName, ByteString data, string clientRef, out string? refusal, out int waiting)
    {
        lock (_lock)
        {
            waiting = 0;
            _queues.TryGetValue(queueName, out ItemQueue? queue);
            long queueBytes = queue?.Bytes ?? 0;
            int queueItems = queue?.Count ?? 0;
            refusal = queueBytes + data.Length > limits.MaxQueueBytes
                ? $"queue '{queueName}' is full: it holds {queueBytes} bytes, its cap is {limits.MaxQueueBytes}; this item has {data.Length}"
                : queueItems >= limits.MaxQueueItems
                ? $"queue '{queueName}' is full: it holds {queueItems} items, its cap"
                : _totalBytes + data.Length > limits.MaxTotalBytes
                ? $"the store is full: it holds {_totalBytes} bytes in all, its cap is {limits.MaxTotalBytes}; this item has {data.Length}"
                : _totalItems >= MaxTotalItems
                ? $"the store is full: it holds {_totalItems} items in all, its cap"
                : null;
            if (refusal is not null)
            {
                return null;
            }

            queue ??= _queues[queueName] = new ItemQueue();
            var item = new StoredItem(Guid.NewGuid().ToString("N"), queueName, _nextSequence++, data, clientRef);
            queue.Waiting.AddLast(item);
            queue.Bytes += data.Length;
            queue.Count++;
            _totalBytes += data.Length;
            _totalItems++;
            waiting = queue.Waiting.Count;
            return item;
        }
    }

    /// <summary>The oldest waiting item of <paramref name="queueName"/>, now leased to <paramref name="connectionId"/>; null when none waits.</summary>
    public StoredItem? TakeOnLease(string queueName, string connectionId, int pid, out int waiting)
    {
        lock (_lock)
        {
            waiting = 0;
            if (!_queues.TryGetValue(queueName, out ItemQueue? queue) || queue.Waiting.First is not { } first)
            {
                return null;
            }

            StoredItem item = first.Value;
            queue.Waiting.RemoveFirst();
            waiting = queue.Waiting.Count;
            ITimer timer = time.CreateTimer(
                static state =>
                {
                    (ItemQueues queues, string id) = ((ItemQueues, string))state!;
                    queues.Expire(id);
                },
                (this, item.Id),
                limits.LeaseTime,
                Timeout.InfiniteTimeSpan);
            _leases[item.Id] = new Lease(item, connectionId, pid, timer);
            return item;
        }
    }

    /// <summary>Removes the item leased to <paramref name="connectionId"/> for good; false when no such lease is held (it expired, or was never this connection's).</summary>
    public bool Confirm(string queueName, string id, string connectionId)
    {
        Lease? lease;
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out lease) || lease.ConnectionId != connectionId || lease.Item.Queue != queueName)
            {
                return false;
            }

            _leases.Remove(id);
            ItemQueue queue = _queues[queueName];
            queue.Bytes -= lease.Item.Data.Length;
            queue.Count--;
            _totalBytes -= lease.Item.Data.Length;
            _totalItems--;
            if (queue.Count == 0)
            {
                _queues.Remove(queueName); // a queue lives while it holds items: names cost nothing once emptied
            }
        }

        lease.Timer.Dispose();
        return true;
    }

    /// <summary>Every item leased to <paramref name="connectionId"/> goes back to the head of its queue: the connection ended.</summary>
    public void ReturnLeasesOf(string connectionId)
    {
        List<Lease> returned;
        lock (_lock)
        {
            returned = [.. _leases.Values.Where(lease => lease.ConnectionId == connectionId)];
            foreach (Lease lease in returned)
            {
                Return(lease);
            }
        }

        foreach (Lease lease in returned)
        {
            lease.Timer.Dispose();
            LogReturnedConnectionEnded(lease.Pid, lease.Item.Id, lease.Item.Queue);
        }
    }

    private void Expire(string id)
    {
        Lease? lease;
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out lease))
            {
                return; // confirmed or returned meanwhile
            }

            Return(lease);
        }

        lease.Timer.Dispose();
        LogReturnedExpired(lease.Pid, lease.Item.Id, lease.Item.Queue, limits.LeaseTime.TotalSeconds);
    }

    // Under _lock: the item goes back before every waiting item that arrived after it, so the queue keeps its order.
    private void Return(Lease lease)
    {
        _leases.Remove(lease.Item.Id);
        LinkedList<StoredItem> waiting = _queues[lease.Item.Queue].Waiting;
        LinkedListNode<StoredItem>? after = waiting.First;
        while (after is not null && after.Value.Sequence < lease.Item.Sequence)
        {
            after = after.Next;
        }

        if (after is null)
        {
            waiting.AddLast(lease.Item);
        }
        else
        {
            waiting.AddBefore(after, lease.Item);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: item {Id} back at the head of queue '{Queue}': its connection ended before the client confirmed it")]
    private partial void LogReturnedConnectionEnded(int pid, string id, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: item {Id} back at the head of queue '{Queue}': not confirmed within {Seconds} s")]
    private partial void LogReturnedExpired(int pid, string id, string queue, double seconds);

    private sealed class ItemQueue
    {
        public LinkedList<StoredItem> Waiting { get; } = new();

        /// <summary>Bytes and items of the queue, leased ones included: they are still held.</summary>
        public long Bytes { get; set; }

        public int Count { get; set; }
    }

    private sealed record Lease(StoredItem Item, string ConnectionId, int Pid, ITimer Timer);
}
