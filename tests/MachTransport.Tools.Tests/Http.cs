// HTTP/2 clients (prior knowledge) over TCP, a Unix socket or Mach, and body checks by SHA-256.
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace MachTransport.Tools.Tests;

internal static class Http
{
    /// <summary>HTTP/2 with prior knowledge to <c>127.0.0.1:<paramref name="port"/></c>.</summary>
    public static HttpClient OverTcp(int port) => Create(new SocketsHttpHandler { UseProxy = false }, $"http://127.0.0.1:{port}");

    /// <summary>HTTP/2 with prior knowledge over the Unix socket at <paramref name="path"/>.</summary>
    public static HttpClient OverUnixSocket(string path) => Create(
        new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        },
        "http://localhost");

    /// <summary>HTTP/2 over Mach to <paramref name="service"/>.</summary>
    public static HttpClient OverMach(string service) => Create(MachHttpHandler.Create(service), "http://localhost");

    public static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    private static HttpClient Create(HttpMessageHandler handler, string baseAddress) => new(handler)
    {
        BaseAddress = new Uri(baseAddress),
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(60),
    };
}
