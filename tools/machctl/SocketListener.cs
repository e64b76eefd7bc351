// The listening socket of "machctl bridge": binds TCP or a Unix socket path, with clear errors for a taken address.
using System.Net;
using System.Net.Sockets;

namespace MachTransport.Tools;

/// <summary>A bound, listening stream socket; a Unix socket file it created is removed on dispose.</summary>
internal sealed class SocketListener : IDisposable
{
    private readonly Socket _socket;
    private readonly string? _unixPath;

    private SocketListener(Socket socket, string? unixPath, string boundAddress)
    {
        _socket = socket;
        _unixPath = unixPath;
        BoundAddress = boundAddress;
    }

    /// <summary>The address actually bound (TCP port 0 resolved).</summary>
    public string BoundAddress { get; }

    /// <summary>Binds <paramref name="address"/>; null with <paramref name="error"/> when it is taken or not bindable.</summary>
    public static SocketListener? TryListen(SocketAddress address, out string? error)
    {
        error = null;
        string? unixPath = (address.EndPoint as UnixDomainSocketEndPoint)?.ToString();
        if (unixPath is not null && !TryRemoveStaleSocket(unixPath, out error))
        {
            return null;
        }

        Socket socket = address.CreateSocket();
        try
        {
            socket.Bind(address.EndPoint);
            if (unixPath is not null)
            {
                // Whoever connects reaches the service as this user: the socket is this user's alone. Set before
                // listen(2), so nobody can connect in between.
                File.SetUnixFileMode(unixPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            socket.Listen(512);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            error = ex.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? $"{address} is already in use by another process."
                : $"Cannot listen on {address}: {ex.Message}.";
            return null;
        }

        string bound = socket.LocalEndPoint is IPEndPoint ip ? $"{(ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip.Address}]" : ip.Address)}:{ip.Port}" : address.Text;
        return new SocketListener(socket, unixPath, bound);
    }

    public ValueTask<Socket> AcceptAsync(CancellationToken cancellationToken) => _socket.AcceptAsync(cancellationToken);

    public void Dispose()
    {
        _socket.Dispose();
        if (_unixPath is not null)
        {
            File.Delete(_unixPath);
        }
    }

    /// <summary>
    /// A socket file nobody listens on is left over from a process that died: it is removed. A live one, or any
    /// other file at the path, is the user's and stays.
    /// </summary>
    private static bool TryRemoveStaleSocket(string path, out string? error)
    {
        error = null;
        var info = new FileInfo(path);
        if (!info.Exists && info.LinkTarget is null)
        {
            return true;
        }

        if (!UnixFileStatus.TryGet(path, out UnixFileStatus status) || !status.IsSocket)
        {
            error = $"unix:{path} exists and is not a socket: remove it or choose another path.";
            return false;
        }

        // A live listener sees the probe as a connection that closes at once.
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            error = $"unix:{path} is already in use by another process.";
            return false;
        }
        catch (SocketException)
        {
            File.Delete(path);
            return true;
        }
    }
}
