using System.Net;
using MachTransport.Grpc.Protocol;

namespace MachTransport.Grpc.Client;

/// <summary>The body of a unary or server-streaming request: one frame from a pooled buffer, returned on dispose.</summary>
internal sealed class SingleMessageContent : HttpContent
{
    private readonly Lock _gate = new();
    private readonly FrameSerializationContext _owner;
    private readonly ReadOnlyMemory<byte> _frame;
    private int _writers;
    private bool _disposed;

    public SingleMessageContent(FrameSerializationContext owner, ReadOnlyMemory<byte> frame)
    {
        _owner = owner;
        _frame = frame;
        Headers.TryAddWithoutValidation("content-type", GrpcProtocol.ContentType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    // The handler may send the body again on a new connection (a refused stream), so the buffer lives until dispose.
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _writers++;
        }

        try
        {
            await stream.WriteAsync(_frame, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                if (--_writers == 0 && _disposed)
                {
                    _owner.Dispose();
                }
            }
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _frame.Length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    _disposed = true;
                    if (_writers == 0)
                    {
                        _owner.Dispose();
                    }
                }
            }
        }

        base.Dispose(disposing);
    }
}
