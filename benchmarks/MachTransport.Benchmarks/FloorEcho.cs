// The floor: what the kernel alone costs for a 64-byte round trip between two processes on SEQPACKET Unix sockets
// (the emulation's carrier), with blocking calls on dedicated threads and nothing above them.
using System.Net.Sockets;

namespace MachTransport.Benchmarks;

internal sealed class FloorEcho : IDisposable
{
    public const int MessageSize = 64;

    private readonly Socket _listener;

    private FloorEcho(Socket listener) => _listener = listener;

    public static FloorEcho Start(string path)
    {
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var echo = new FloorEcho(listener);
        new Thread(echo.AcceptLoop) { IsBackground = true, Name = "floor accept" }.Start();
        return echo;
    }

    /// <summary>The client side: connects a SEQPACKET socket to the server's floor echo.</summary>
    public static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    public void Dispose() => _listener.Dispose();

    private void AcceptLoop()
    {
        try
        {
            while (true)
            {
                Socket socket = _listener.Accept();
                new Thread(() => Echo(socket)) { IsBackground = true, Name = "floor echo" }.Start();
            }
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
        catch (SocketException)
        {
            // Shutting down.
        }
    }

    private static void Echo(Socket socket)
    {
        using (socket)
        {
            byte[] buffer = new byte[MessageSize];
            try
            {
                int read;
                while ((read = socket.Receive(buffer)) > 0)
                {
                    _ = socket.Send(buffer, read, SocketFlags.None);
                }
            }
            catch (SocketException)
            {
                // The client went away.
            }
        }
    }
}
