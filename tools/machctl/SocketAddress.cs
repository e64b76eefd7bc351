// The TCP or Unix-socket side of machctl: "HOST:PORT" or "unix:PATH", parsed once, then bound or connected.
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MachTransport.Tools;

/// <summary>A stream-socket address given on the command line: <c>127.0.0.1:8080</c>, <c>[::1]:8080</c>, <c>localhost:8080</c> or <c>unix:/path</c>.</summary>
internal sealed class SocketAddress
{
    private const string UnixPrefix = "unix:";

    private SocketAddress(EndPoint endPoint, string text)
    {
        EndPoint = endPoint;
        Text = text;
    }

    public EndPoint EndPoint { get; }

    /// <summary>The address as the user wrote it (a TCP port 0 is replaced by the bound port once listening).</summary>
    public string Text { get; }

    public bool IsUnix => EndPoint is UnixDomainSocketEndPoint;

    /// <summary>Parses <paramref name="text"/>; null with <paramref name="error"/> set when it is not an address.</summary>
    public static SocketAddress? TryParse(string text, out string? error)
    {
        error = null;
        if (text.StartsWith(UnixPrefix, StringComparison.Ordinal))
        {
            string path = text[UnixPrefix.Length..];
            if (path.Length == 0)
            {
                error = $"'{text}' names no socket path (use unix:/path/to/socket).";
                return null;
            }

            return new SocketAddress(new UnixDomainSocketEndPoint(path), text);
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
        {
            error = $"'{text}' is not an address: use HOST:PORT (such as 127.0.0.1:8080) or unix:PATH.";
            return null;
        }

        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new SocketAddress(new IPEndPoint(address, port), text);
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new SocketAddress(new IPEndPoint(IPAddress.Loopback, port), text);
        }

        error = $"'{host}' is not an IP address or 'localhost': machctl joins local sockets only.";
        return null;
    }

    public Socket CreateSocket() => IsUnix
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

    /// <summary>Connects a new socket to this address; the caller owns it.</summary>
    public async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        Socket socket = CreateSocket();
        try
        {
            await socket.ConnectAsync(EndPoint, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override string ToString() => Text;
}
