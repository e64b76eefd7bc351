// machctl expose in front of a plain Kestrel server, reached by MachHttpHandler clients.
using MachTransport.Tests;
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
}
