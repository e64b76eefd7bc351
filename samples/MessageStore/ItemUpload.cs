using System.Buffers;

namespace MessageStore;

/// <summary>
/// An item on its way into the store: its space is already taken in the caps, its bytes are gathered into chunks of
/// <see cref="ItemStoreService.ChunkBytes"/> (whatever sizes the client sends) and each full chunk is written to the
/// database at once, so the server holds at most one chunk of it. <see cref="Complete"/> makes it an item;
/// disposing it first (the client went away, or sent too much or too little) deletes its chunks and frees its space.
/// </summary>
internal sealed class ItemUpload : IDisposable
{
    private readonly ItemQueues _queues;
    private readonly ItemDatabase _database;
    private readonly ChunkWriteHook _hook;
    private readonly long _upload;
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(ItemStoreService.ChunkBytes);
    private int _buffered;
    private int _chunks;
    private bool _completed;

    public ItemUpload(ItemQueues queues, ItemDatabase database, ChunkWriteHook hook, string queue, string clientRef, int length)
    {
        _queues = queues;
        _database = database;
        _hook = hook;
        _upload = database.NewUpload();
        Queue = queue;
        ClientRef = clientRef;
        Length = length;
    }

    public string Queue { get; }

    public string ClientRef { get; }

    /// <summary>The length the client announced.</summary>
    public int Length { get; }

    /// <summary>Bytes received so far.</summary>
    public long Received { get; private set; }

    /// <summary>Appends the next bytes; false (nothing written) when they go past the length announced.</summary>
    public async ValueTask<bool> AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (Received + data.Length > Length)
        {
            return false;
        }

        Received += data.Length;
        while (!data.IsEmpty)
        {
            int taken = Math.Min(data.Length, ItemStoreService.ChunkBytes - _buffered);
            data.Span[..taken].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += taken;
            data = data[taken..];
            if (_buffered == ItemStoreService.ChunkBytes)
            {
                WriteBufferedChunk();
                if (Received < Length)
                {
                    await _hook.BetweenChunksAsync(_chunks, Length, Queue, cancellationToken);
                }
            }
        }

        return true;
    }

    /// <summary>The item, stored and queued, once all its bytes came; null when fewer came than announced.</summary>
    public StoredItem? Complete()
    {
        if (Received != Length)
        {
            return null;
        }

        if (_buffered > 0)
        {
            WriteBufferedChunk();
        }

        StoredItem item = _queues.Add(this, _upload);
        _completed = true;
        return item;
    }

    public void Dispose()
    {
        if (_buffer is null)
        {
            return;
        }

        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        if (!_completed)
        {
            _database.DiscardUpload(_upload);
            _queues.Unreserve(Queue, Length);
        }
    }

    private void WriteBufferedChunk()
    {
        _database.WriteChunk(_upload, _chunks, _buffer.AsSpan(0, _buffered));
        _chunks++;
        _buffered = 0;
    }
}
