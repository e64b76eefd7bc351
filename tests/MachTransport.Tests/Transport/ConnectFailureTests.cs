using MachTransport.Mach;
using MachTransport.Mach.Rights;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>Each way a connection can be refused gives its own exception and message.</summary>
[Trait("Category", "CrossProcess")]
public sealed class ConnectFailureTests
{
    [Fact]
    public async Task UnregisteredServiceGivesABootstrapException()
    {
        using var client = new HttpClient(MachHttpHandler.Create(TestEnvironment.UniqueServiceName("missing"))) { BaseAddress = new Uri("http://localhost") };
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/").WaitAsync(TimeSpan.FromSeconds(10)));
        MachBootstrapException? bootstrap = Exceptions.Find<MachBootstrapException>(error);
        Assert.NotNull(bootstrap);
        Assert.Equal(1102, bootstrap.Status);
        Assert.Contains("No Mach service named", bootstrap.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PeerRejectedByPolicyGivesARejectionAndTheServerCountsIt()
    {
        await using TransportHost host = await TransportHost.StartAsync("deny", "--deny-peers");
        using HttpClient client = host.CreateClient();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/hello").WaitAsync(TimeSpan.FromSeconds(10)));
        MachConnectionRejectedException? rejected = Exceptions.Find<MachConnectionRejectedException>(error);
        Assert.NotNull(rejected);
        Assert.Equal(MachRejectReason.PeerNotAllowed, rejected.Reason);
        Assert.Contains("denied access", rejected.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await host.StatsAsync())["rejected"]);
    }

    [Fact]
    public async Task ServiceWhoseServerDiedGivesADistinctError()
    {
        string service = TestEnvironment.UniqueServiceName("dead");
        await using (TransportHost host = await TransportHost.StartOnAsync(service))
        {
            await host.KillAsync();
        }

        using var client = new HttpClient(MachHttpHandler.Create(service)) { BaseAddress = new Uri("http://localhost") };
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/").WaitAsync(TimeSpan.FromSeconds(10)));
        // The name may still be registered (its server gone) or already reclaimed: either is reported clearly.
        Exception? cause = (Exception?)Exceptions.Find<MachException>(error) ?? Exceptions.Find<MachBootstrapException>(error);
        Assert.NotNull(cause);
        Assert.Matches("server is gone|No Mach service named", cause.Message);
    }

    [Fact]
    public async Task AServerThatNeverAnswersGivesAnIOExceptionCausedByATimeout()
    {
        string service = TestEnvironment.UniqueServiceName("silent");
        using MachReceiveRight silent = MachBootstrap.CheckIn(MachKernel.Current, service); // registered, never read
        using var client = new HttpClient(MachHttpHandler.Create(service, new MachClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }))
        {
            BaseAddress = new Uri("http://localhost"),
        };

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/").WaitAsync(TimeSpan.FromSeconds(10)));

        IOException? io = Exceptions.Find<IOException>(error);
        Assert.NotNull(io);
        Assert.IsType<TimeoutException>(io.InnerException);
        Assert.Contains("did not answer the connection request within 0.3 s", io.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryConnectFailureIsAnIOExceptionAsASocketsWouldBe()
    {
        using var client = new HttpClient(MachHttpHandler.Create(TestEnvironment.UniqueServiceName("missing"))) { BaseAddress = new Uri("http://localhost") };
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/").WaitAsync(TimeSpan.FromSeconds(10)));

        // grpc-dotnet (and callers like it) map an IOException anywhere in the chain to UNAVAILABLE.
        Assert.IsAssignableFrom<IOException>(error.InnerException);
        Assert.IsAssignableFrom<IOException>(new MachException("server gone", 0x10000003));
        Assert.IsAssignableFrom<IOException>(new MachConnectionRejectedException());
    }

    [Fact]
    public async Task ASecondServerOnATakenNameFailsToStartWithAClearError()
    {
        await using TransportHost first = await TransportHost.StartAsync("taken");
        await using ChildProcess second = ChildProcess.Start("MachTransport.TestHost", "serve", first.Service);
        await second.WaitForExitAsync();

        Assert.NotEqual(0, second.ExitCode);
        string error = await second.ReadErrorAsync();
        // One line names the holder's pid (from the emulation's lock table) and what to do.
        Assert.Contains($"The Mach service name '{first.Service}' is already registered by process {first.Pid} (BOOTSTRAP_SERVICE_ACTIVE): stop it or listen under another name.", error, StringComparison.Ordinal);
        using HttpClient client = first.CreateClient();
        Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello")); // the first server is untouched
    }
}
