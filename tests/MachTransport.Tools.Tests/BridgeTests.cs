// machctl bridge against the test host (an HTTP/2 server on Mach, in a child process).
using System.Net.Sockets;
using System.Text;
using MachTransport.Tests.Transport;
using Xunit;

namespace MachTransport.Tools.Tests;

[Trait("Category", "Tools")]
public sealed class BridgeTests
{
    [Fact]
    public async Task HttpClientOverTcpGetsAnswersFromTheMachServer()
    {
        await using TransportHost host = await TransportHost.StartAsync("bridge");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service);
        Assert.EndsWith($"forwarding to Mach service {host.Service}", bridge.ReadyLine);

        using HttpClient client = Http.OverTcp(bridge.Port);
        Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello"));
        // The server sees the bridge as its Mach peer: the kernel's identity of the bridge process.
        Assert.StartsWith($"{bridge.Pid} ", await client.GetStringAsync("/peer"));
    }

    [Fact]
    public async Task LargeBodiesRoundTripBothWays()
    {
        await using TransportHost host = await TransportHost.StartAsync("bridge-large");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service);
        using HttpClient client = Http.OverTcp(bridge.Port);

        byte[] upload = Http.RandomBytes(8 * 1024 * 1024 + 3, seed: 1);
        using HttpResponseMessage hashed = await client.PostAsync("/sha256", new ByteArrayContent(upload));
        Assert.Equal($"{upload.Length} {Http.Sha256(upload)}", await hashed.Content.ReadAsStringAsync());

        byte[] download = await client.GetByteArrayAsync($"/bytes?n={upload.Length}&seed=1");
        Assert.Equal(Http.Sha256(upload), Http.Sha256(download)); // the host draws from the same Random(seed)
    }

    [Fact]
    public async Task UnixSocketListenerIsPrivateServesHttp2AndIsRemovedOnExit()
    {
        string path = Path.Combine(TestEnvironment.BootstrapDirectory, $"bridge-{Guid.NewGuid():N}"[..20] + ".sock");
        await using TransportHost host = await TransportHost.StartAsync("bridge-unix");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "unix:" + path, "--service", host.Service);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path)); // this user's alone
        using (HttpClient client = Http.OverUnixSocket(path))
        {
            Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello"));
        }

        bridge.Terminate();
        Assert.Equal(0, (await bridge.WaitForExitAsync()).ExitCode);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task HalfCloseFromTheClientStillDeliversTheWholeResponse()
    {
        await using TransportHost host = await TransportHost.StartAsync("bridge-half");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service + ".h1");
        using Socket socket = await ConnectAsync(bridge.Port);

        await socket.SendAsync("GET /chunks?count=500 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray());
        socket.Shutdown(SocketShutdown.Send); // FIN towards Mach: the server's response must still come back whole

        string response = await ReadToEndAsync(socket);
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.Contains("\n499\n", response);
    }

    [Fact]
    public async Task ClosingTheTcpSideClosesTheMachConnection()
    {
        await using TransportHost host = await TransportHost.StartAsync("bridge-close");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service);
        using (Socket socket = await ConnectAsync(bridge.Port))
        {
            await host.WaitForStatsAsync(s => s["active"] == 1);
        }

        await host.WaitForStatsAsync(s => s["active"] == 0);
    }

    [Fact]
    public async Task TheMachServerDyingResetsTheTcpConnectionAndLaterClientsAreClosedWithALogLine()
    {
        TransportHost host = await TransportHost.StartAsync("bridge-dead");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service);
        using Socket socket = await ConnectAsync(bridge.Port);
        await host.WaitForStatsAsync(s => s["active"] == 1);

        await host.KillAsync();
        await host.DisposeAsync();
        await AssertResetAsync(socket); // the Mach peer died: a reset, not an orderly end

        // The name is stale now: this client is closed at once, and the bridge stays up for the next.
        using Socket late = await ConnectAsync(bridge.Port);
        await AssertClosedAsync(late);
        Assert.False(bridge.HasExited);

        bridge.Terminate();
        (int exitCode, string log) = await bridge.WaitForExitAsync();
        Assert.Equal(0, exitCode);
        Assert.Contains($"cannot reach the Mach service {host.Service}", log);
        Assert.Contains("reset (the Mach side was reset", log);
    }

    [Fact]
    public async Task SigtermLetsAnInFlightRequestFinishThenExitsZero()
    {
        await using TransportHost host = await TransportHost.StartAsync("bridge-term");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service, "--grace", "30");
        using HttpClient client = Http.OverTcp(bridge.Port);
        Task<string> slow = client.GetStringAsync("/wait?ms=1000");
        await host.WaitForStatsAsync(s => s["active"] == 1);

        bridge.Terminate();
        Assert.Equal("done", await slow);
        client.Dispose(); // the idle HTTP/2 connection closes: nothing is left to wait for

        (int exitCode, string log) = await bridge.WaitForExitAsync();
        Assert.Equal(0, exitCode);
        Assert.DoesNotContain("grace period is over", log);
    }

    [Fact]
    public async Task SigtermResetsConnectionsStillOpenWhenTheGracePeriodEnds()
    {
        await using TransportHost host = await TransportHost.StartAsync("bridge-grace");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service, "--grace", "0.5");
        using Socket idle = await ConnectAsync(bridge.Port);
        await host.WaitForStatsAsync(s => s["active"] == 1);

        bridge.Terminate();
        (int exitCode, string log) = await bridge.WaitForExitAsync();
        Assert.Equal(0, exitCode);
        Assert.Contains("grace period is over", log);
        await AssertClosedAsync(idle);
        await host.WaitForStatsAsync(s => s["active"] == 0);
    }

    private static async Task AssertResetAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        SocketException reset = await Assert.ThrowsAsync<SocketException>(async () => await socket.ReceiveAsync(new byte[1], SocketFlags.None, timeout.Token));
        Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return socket;
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var text = new StringBuilder();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    /// <summary>The peer closed or reset the socket (bounded wait): a read ends with 0 bytes or a reset.</summary>
    private static async Task AssertClosedAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        byte[] buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }
}
