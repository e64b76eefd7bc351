using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>An item in the store: its id, the queue it is in, its place in the order of arrival (its row in the database), its length, the storing client's reference, the number its chunks are kept under.</summary>
internal sealed record StoredItem(string Id, string Queue, long Sequence, int Length, string ClientRef, long Upload);

/// <summary>
/// The FIFO queues, within the caps of <see cref="StoreLimits"/>, their items' bytes in <see cref="ItemDatabase"/>
/// (only the index is in memory; a restart reloads it). Retrieval is at least once: a retrieved item is
/// leased to the connection that took it, invisible to others, until that connection confirms it; a lease not
/// confirmed in time, or whose connection ends, puts the item back at the head of its queue, in its original order.
/// </summary>
internal sealed partial class ItemQueues
{
    /// <summary>Items in the whole store, leased ones included: empty items would otherwise escape the byte caps.</summary>
    public const int MaxTotalItems = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ItemQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private long _totalBytes;
    private int _totalItems;
    private readonly StoreLimits _limits;
    private readonly ItemDatabase _database;
    private readonly ChunkWriteHook _hook;
    private readonly TimeProvider _time;
    private readonly ILogger<ItemQueues> _logger;

    public ItemQueues(StoreLimits limits, ItemDatabase database, ChunkWriteHook hook, TimeProvider time, ILogger<ItemQueues> logger)
    {
        _limits = limits;
        _database = database;
        _hook = hook;
        _time = time;
        _logger = logger;

        // What the last run left: every item waits again (leases die with their connections, and so with the server).
        foreach (ItemRow row in database.LoadAll())
        {
            ItemQueue queue = QueueOf(row.Queue);
            queue.Waiting.AddLast(new StoredItem(row.Id, row.Queue, row.Sequence, row.Length, row.ClientRef, row.Upload));
            queue.Bytes += row.Length;
            queue.Count++;
            _totalBytes += row.Length;
            _totalItems++;
        }
    }

    public StoreLimits Limits => _limits;

    /// <summary>Items kept from before this run started, and their bytes.</summary>
    public (int Items, long Bytes) Totals
    {
        get
        {
            lock (_lock)
            {
                return (_totalItems, _totalBytes);
            }
        }
    }

    /// <summary>
    /// A store of <paramref name="length"/> bytes to <paramref name="queueName"/>, its space taken in the caps before any
    /// byte arrives (so concurrent stores cannot overrun a cap); null with the reason when a cap refuses it.
    /// </summary>
    public ItemUpload? BeginUpload(string queueName, int length, string clientRef, out string? refusal)
    {
        lock (_lock)
        {
            _queues.TryGetValue(queueName, out ItemQueue? queue);
            long queueBytes = queue?.Bytes ?? 0;
            int queueItems = queue?.Count ?? 0;
            refusal = queueBytes + length > _limits.MaxQueueBytes
                ? $"queue '{queueName}' is full: it holds {queueBytes} bytes, its cap is {_limits.MaxQueueBytes}; this item has {length}"
                : queueItems >= _limits.MaxQueueItems
                ? $"queue '{queueName}' is full: it holds {queueItems} items, its cap"
                : _totalBytes + length > _limits.MaxTotalBytes
                ? $"the store is full: it holds {_totalBytes} bytes in all, its cap is {_limits.MaxTotalBytes}; this item has {length}"
                : _totalItems >= MaxTotalItems
                ? $"the store is full: it holds {_totalItems} items in all, its cap"
                : null;
            if (refusal is not null)
            {
                return null;
            }

            queue ??= QueueOf(queueName);
            queue.Bytes += length;
            queue.Count++;
            _totalBytes += length;
            _totalItems++;
        }

        try
        {
            return new ItemUpload(this, _database, _hook, queueName, clientRef, length);
        }
        catch
        {
            Unreserve(queueName, length);
            throw;
        }
    }

    /// <summary>The item <paramref name="upload"/> received whole: made durable, then queued in its order of arrival.</summary>
    public StoredItem Add(ItemUpload upload, long uploadNumber)
    {
        string id = Guid.NewGuid().ToString("N");
        var item = new StoredItem(id, upload.Queue, _database.AddItem(id, upload.Queue, upload.ClientRef, upload.Length, uploadNumber), upload.Length, upload.ClientRef, uploadNumber);
        lock (_lock)
        {
            // Behind every item committed before it: two stores finishing at once reach this lock in either order.
            LinkedList<StoredItem> waiting = _queues[upload.Queue].Waiting;
            LinkedListNode<StoredItem>? before = waiting.Last;
            while (before is not null && before.Value.Sequence > item.Sequence)
            {
                before = before.Previous;
            }

            if (before is null)
            {
                waiting.AddFirst(item);
            }
            else
            {
                waiting.AddAfter(before, item);
            }
        }

        return item;
    }

    /// <summary>Items of <paramref name="queueName"/> waiting, leased ones not counted.</summary>
    public int WaitingIn(string queueName)
    {
        lock (_lock)
        {
            return _queues.TryGetValue(queueName, out ItemQueue? queue) ? queue.Waiting.Count : 0;
        }
    }

    /// <summary>A store that did not finish gives back the space <see cref="BeginUpload"/> took.</summary>
    public void Unreserve(string queueName, int length)
    {
        lock (_lock)
        {
            Release(queueName, length);
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
            ITimer timer = _time.CreateTimer(
                static state =>
                {
                    (ItemQueues queues, string id) = ((ItemQueues, string))state!;
                    queues.Expire(id);
                },
                (this, item.Id),
                _limits.LeaseTime,
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
        }

        lease.Timer.Dispose();
        _database.Delete(lease.Item.Sequence, lease.Item.Upload);
        lock (_lock)
        {
            Release(queueName, lease.Item.Length);
        }

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
        LogReturnedExpired(lease.Pid, lease.Item.Id, lease.Item.Queue, _limits.LeaseTime.TotalSeconds);
    }

    // Under _lock.
    private ItemQueue QueueOf(string queueName)
    {
        if (!_queues.TryGetValue(queueName, out ItemQueue? queue))
        {
            queue = _queues[queueName] = new ItemQueue();
        }

        return queue;
    }

    // Under _lock: an item's space is free again.
    private void Release(string queueName, int length)
    {
        ItemQueue queue = _queues[queueName];
        queue.Bytes -= length;
        queue.Count--;
        _totalBytes -= length;
        _totalItems--;
        if (queue.Count == 0)
        {
            _queues.Remove(queueName); // a queue lives while it holds items: names cost nothing once emptied
        }
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
