using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace MachTransport.Channel;

/// <summary>
/// A <see cref="Stream"/> over a channel's pipes. A zero-byte read waits until data (or the end) is there and
/// consumes nothing, which is how SocketsHttpHandler's HTTP/2 code waits before each frame header.
/// Disposing half-closes (FIN after the written data) and then releases the channel.
/// </summary>
internal sealed class MachChannelStream : Stream
{
    private readonly MachChannel _channel;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private int _disposed;

    public MachChannelStream(MachChannel channel)
    {
        _channel = channel;
        _reader = channel.Input;
        _writer = channel.Output;
    }

    internal MachChannel Channel => _channel;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    // Pooled builders: a read or write that has to wait would otherwise allocate its state machine, once per message.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        while (true)
        {
            ReadResult result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> data = result.Buffer;
            if (result.IsCanceled && data.IsEmpty)
            {
                _reader.AdvanceTo(data.Start);
                throw new OperationCanceledException("The read was cancelled.");
            }

            if (buffer.Length == 0)
            {
                _reader.AdvanceTo(data.Start);
                return 0;
            }

            if (!data.IsEmpty)
            {
                int count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                _reader.AdvanceTo(data.GetPosition(count));
                return count;
            }

            _reader.AdvanceTo(data.End);
            if (result.IsCompleted)
            {
                return 0;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        FlushResult result = await _writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new IOException("The Mach connection is closed for writing.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
        => await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);

    // Blocking calls exist for Stream's contract; HttpClient never uses them.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush() => FlushAsync().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _writer.Complete();
            _reader.Complete();
            await _channel.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _writer.Complete();
            _reader.Complete();
            // Draining the last bytes may wait for credit: never block the caller for it.
            _ = _channel.DisposeAsync().AsTask();
        }

        base.Dispose(disposing);
    }
}
