// Byte echoes without HTTP: over a Mach channel (the transport's own listener) and over a Unix stream socket.
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace MachTransport.Benchmarks;

internal static class RawEcho
{
    public static async Task ServeAsync(IConnectionListener listener, CancellationToken cancel)
    {
        var connections = new List<Task>();
        while (!cancel.IsCancellationRequested && await listener.AcceptAsync(cancel).ConfigureAwait(false) is ConnectionContext connection)
        {
            connections.Add(EchoAsync(connection));
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    public static async Task ServeUnixAsync(string path, CancellationToken cancel)
    {
        File.Delete(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        try
        {
            while (true)
            {
                Socket socket = await listener.AcceptAsync(cancel).ConfigureAwait(false);
                _ = EchoAsync(new NetworkStream(socket, ownsSocket: true));
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private static async Task EchoAsync(ConnectionContext connection)
    {
        await using (connection)
        {
            PipeReader input = connection.Transport.Input;
            PipeWriter output = connection.Transport.Output;
            try
            {
                while (true)
                {
                    ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                    foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                    {
                        output.Write(segment.Span);
                    }

                    input.AdvanceTo(result.Buffer.End);
                    FlushResult flushed = await output.FlushAsync().ConfigureAwait(false);
                    if (result.IsCompleted || flushed.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (ConnectionResetException)
            {
                // The client went away: the end of this echo.
            }

            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static async Task EchoAsync(NetworkStream stream)
    {
        await using (stream)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                }
            }
            catch (IOException)
            {
                // The client went away.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
