// A read-only stream that passes another through and remembers its first byte: a gRPC body's first byte is the
// compressed flag of its first message, which neither grpc-dotnet's server nor its client hands to the application.
namespace MachTransport.Interop.Tests.Infrastructure;

internal sealed class FirstByteStream(Stream inner) : Stream
{
    private int _firstByte = -1;

    /// <summary>The first byte read through this stream, or -1 before any.</summary>
    public int FirstByte => Volatile.Read(ref _firstByte);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Remember(buffer.AsSpan(offset), inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken);
        return Remember(buffer.Span, read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Remember(ReadOnlySpan<byte> buffer, int read)
    {
        if (read > 0)
        {
            Interlocked.CompareExchange(ref _firstByte, buffer[0], -1);
        }

        return read;
    }
}
