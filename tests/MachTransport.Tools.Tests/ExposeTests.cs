// machctl expose in front of a plain Kestrel server, reached by MachHttpHandler clients.
using System.Net;
using System.Net.Sockets;
using System.Text;
using MachTransport.Tests.Transport;
using Xunit;

namespace MachTransport.Tools.Tests;

[Trait("Category", "Tools")]
public sealed class ExposeTests
{
    [Fact]
    public async Task MachHttpHandlerReachesATcpServerThroughExpose()
    {
        await using TcpHttp2Server server = await TcpHttp2Server.StartAsync();
        string service = TestEnvironment.UniqueServiceName("expose");
        await using Machctl expose = await Machctl.StartAsync("expose", "--service", service, "--to", server.Address);
        Assert.Equal($"registered Mach service {service}, forwarding to {server.Address}", expose.ReadyLine);

        using HttpClient client = Http.OverMach(service);
        Assert.Equal("tcp hello HTTP/2", await client.GetStringAsync("/hello"));

        // Large bodies both ways, checked by SHA-256. (An echo of a body larger than the HTTP/2 windows stalls
        // HttpClient against Kestrel over plain TCP as well: the tests send and receive separately.)
        byte[] body = Http.RandomBytes(5 * 1024 * 1024 + 1, seed: 2);
        using HttpResponseMessage hashed = await client.PostAsync("/sha256", new ByteArrayContent(body));
        Assert.Equal(Http.Sha256(body), await hashed.Content.ReadAsStringAsync());
        Assert.Equal(Http.Sha256(body), Http.Sha256(await client.GetByteArrayAsync($"/bytes?n={body.Length}&seed=2")));
    }

    [Fact]
    public async Task HalfCloseCloseAndResetReachTheOtherSide()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        string service = TestEnvironment.UniqueServiceName("expose-raw");
        await using Machctl expose = await Machctl.StartAsync("expose", "--service", service, "--to", listener.LocalEndPoint!.ToString()!);
        var factory = new MachConnectionFactory();
        var endPoint = new MachEndPoint(service);

        await using (Stream client = await factory.ConnectStreamAsync(endPoint))
        using (Socket server = await listener.AcceptAsync())
        {
            await client.WriteAsync("ping"u8.ToArray());
            Assert.Equal("ping", await ReadAsync(server, 4));

            // The TCP server half-closes: the Mach client reads to the end and can still send.
            await server.SendAsync("pong"u8.ToArray());
            server.Shutdown(SocketShutdown.Send);
            Assert.Equal("pong", await ReadToEndAsync(client));
            await client.WriteAsync("after"u8.ToArray());
            Assert.Equal("after", await ReadAsync(server, 5));

            // The Mach client closes: the TCP server reads its end.
            await client.DisposeAsync();
            Assert.Equal(0, await server.ReceiveAsync(new byte[1]).WaitAsync(TimeSpan.FromSeconds(30)));
        }

        // A reset (RST) on the TCP side is a reset (ABORT) on the Mach side, not an orderly end.
        await using (Stream client = await factory.ConnectStreamAsync(endPoint))
        using (Socket server = await listener.AcceptAsync())
        {
            await client.WriteAsync("x"u8.ToArray());
            Assert.Equal("x", await ReadAsync(server, 1));
            server.LingerState = new LingerOption(true, 0);
            server.Dispose();
            await Assert.ThrowsAnyAsync<IOException>(() => ReadToEndAsync(client));
        }
    }

    [Fact]
    public async Task ExposesAUnixSocketServer()
    {
        string path = Path.Combine(TestEnvironment.BootstrapDirectory, $"server-{Guid.NewGuid():N}"[..20] + ".sock");
        await using TcpHttp2Server server = await TcpHttp2Server.StartAsync(path);
        string service = TestEnvironment.UniqueServiceName("expose-unix");
        await using Machctl expose = await Machctl.StartAsync("expose", "--service", service, "--to", server.Address);

        using HttpClient client = Http.OverMach(service);
        Assert.Equal("tcp hello HTTP/2", await client.GetStringAsync("/hello"));
    }

    [Fact]
    public async Task ADeadTargetFailsThatRequestWithALogLineAndTheServiceStaysUp()
    {
        string address;
        await using (TcpHttp2Server gone = await TcpHttp2Server.StartAsync())
        {
            address = gone.Address; // nobody listens there once it is disposed
        }

        string service = TestEnvironment.UniqueServiceName("expose-dead");
        await using Machctl expose = await Machctl.StartAsync("expose", "--service", service, "--to", address);
        using HttpClient client = Http.OverMach(service);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("/hello"));
        Assert.False(expose.HasExited);

        expose.Terminate();
        (int exitCode, string log) = await expose.WaitForExitAsync();
        Assert.Equal(0, exitCode);
        Assert.Contains($"cannot reach {address}", log);
    }

    [Fact]
    public async Task ANameInUseIsAnErrorWithAMessage()
    {
        await using TransportHost host = await TransportHost.StartAsync("expose-taken");
        (int exitCode, _, string error) = await Machctl.RunAsync("expose", "--service", host.Service, "--to", "127.0.0.1:1");
        Assert.Equal(1, exitCode);
        Assert.Contains($"'{host.Service}' is already registered", error);
    }

    [Fact]
    public async Task SigtermUnregistersTheNameAndExitsZero()
    {
        await using TcpHttp2Server server = await TcpHttp2Server.StartAsync();
        string service = TestEnvironment.UniqueServiceName("expose-term");
        await using Machctl expose = await Machctl.StartAsync("expose", "--service", service, "--to", server.Address);
        using (HttpClient client = Http.OverMach(service))
        {
            Assert.Equal("tcp hello HTTP/2", await client.GetStringAsync("/hello"));
        }

        expose.Terminate();
        Assert.Equal(0, (await expose.WaitForExitAsync()).ExitCode);
        (int pingExit, _, _) = await Machctl.RunAsync("ping", service, "-c", "1");
        Assert.Equal(1, pingExit);
    }

    private static async Task<string> ReadAsync(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        for (int read = 0; read < count;)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, n);
            read += n;
        }

        return Encoding.ASCII.GetString(buffer);
    }

    private static async Task<string> ReadToEndAsync(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }
}
