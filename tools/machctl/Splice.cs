// Joins one stream socket to one Mach connection, byte for byte, in both directions at once.
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace MachTransport.Tools;

/// <summary>
/// The copy is socket-to-pipe: received bytes land directly in the Mach output pipe's pooled buffer, and Mach
/// input is sent from the input pipe's own segments, so no byte is copied beyond what the two ends need and no
/// read allocates. An end-of-stream on one side becomes a half-close on the other (FIN on Mach, shutdown(SHUT_WR)
/// on the socket); an error or reset on one side resets the other (ABORT on Mach, RST on TCP).
/// </summary>
internal sealed class Splice
{
    /// <summary>Bytes asked of the output pipe per receive: one inline Mach message (docs/protocol.md).</summary>
    private const int ReceiveSize = 16 * 1024;

    private readonly Socket _socket;
    private readonly MachEnd _mach;
    private readonly CancellationTokenSource _stop;
    private string? _resetReason;
    private int _reset;

    private Splice(Socket socket, MachEnd mach, CancellationTokenSource stop)
    {
        _socket = socket;
        _mach = mach;
        _stop = stop;
    }

    /// <summary>Bytes that went from the socket to Mach.</summary>
    public long ToMach { get; private set; }

    /// <summary>Bytes that went from Mach to the socket.</summary>
    public long FromMach { get; private set; }

    /// <summary>Why the connection was reset; null when both sides closed in order.</summary>
    public string? ResetReason => Volatile.Read(ref _resetReason);

    /// <summary>Joins the two ends and logs how the connection ended, with its byte counts (Debug).</summary>
    public static async Task JoinAsync(long id, Socket socket, MachEnd mach, ILogger logger, CancellationToken abort)
    {
        Log.ConnectionOpened(logger, id, Describe(socket), mach.PeerPid);
        Splice splice = await RunAsync(socket, mach, abort);
        if (splice.ResetReason is string reason)
        {
            Log.ConnectionReset(logger, id, reason, splice.ToMach, splice.FromMach);
        }
        else
        {
            Log.ConnectionClosed(logger, id, splice.ToMach, splice.FromMach);
        }
    }

    /// <summary>
    /// Runs until both directions have ended, then releases both ends. <paramref name="abort"/> resets both at
    /// once (the shutdown grace period is over).
    /// </summary>
    private static async Task<Splice> RunAsync(Socket socket, MachEnd mach, CancellationToken abort)
    {
        using var stop = new CancellationTokenSource();
        var splice = new Splice(socket, mach, stop);
        try
        {
            using (abort.Register(static state => ((Splice)state!).Reset("machctl is shutting down and the grace period is over"), splice))
            {
                await Task.WhenAll(splice.SocketToMachAsync(), splice.MachToSocketAsync());
            }
        }
        finally
        {
            socket.Dispose();
            await mach.DisposeAsync();
        }

        return splice;
    }

    private static string Describe(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint?.ToString() is { Length: > 0 } remote ? remote : socket.LocalEndPoint?.ToString() ?? "?";
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return "?";
        }
    }

    private async Task SocketToMachAsync()
    {
        PipeWriter output = _mach.Pipe.Output;
        try
        {
            while (true)
            {
                int received;
                try
                {
                    received = await _socket.ReceiveAsync(output.GetMemory(ReceiveSize), SocketFlags.None, _stop.Token);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    Reset($"the socket side failed: {ex.Message}");
                    return;
                }

                if (received == 0)
                {
                    break;
                }

                output.Advance(received);
                ToMach += received;
                FlushResult flushed = await output.FlushAsync(_stop.Token);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    Reset("the Mach side closed the connection");
                    return;
                }
            }

            // FIN after the bytes written so far; Mach input may go on arriving.
            await output.CompleteAsync();
        }
        catch (OperationCanceledException ex)
        {
            // Only a reset cancels the token: nothing more to do unless the pipe itself was cancelled.
            Reset($"the Mach side was reset: {ex.Message}");
        }
    }

    private async Task MachToSocketAsync()
    {
        PipeReader input = _mach.Pipe.Input;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
            {
                // ConnectionResetException (peer aborted or died) is an IOException; a local abort or a release
                // fails the read with ConnectionAbortedException, an OperationCanceledException.
                Reset($"the Mach side was reset: {ex.Message}");
                return;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    await SendAllAsync(segment);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                input.AdvanceTo(buffer.End);
                Reset($"the socket side failed: {ex.Message}");
                return;
            }

            FromMach += buffer.Length;
            input.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Reset($"the socket side failed: {ex.Message}");
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> segment)
    {
        while (!segment.IsEmpty)
        {
            int sent = await _socket.SendAsync(segment, SocketFlags.None, _stop.Token);
            segment = segment[sent..];
        }
    }

    /// <summary>Resets both ends, once: ABORT to the Mach peer, RST (linger 0) to the socket peer.</summary>
    private void Reset(string reason)
    {
        if (Interlocked.Exchange(ref _reset, 1) != 0)
        {
            return;
        }

        Volatile.Write(ref _resetReason, reason);
        _mach.Abort(reason);
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Unix sockets have no RST and a disposed socket needs none: closing is all there is.
        }

        _socket.Dispose();
        _stop.Cancel();
    }
}
