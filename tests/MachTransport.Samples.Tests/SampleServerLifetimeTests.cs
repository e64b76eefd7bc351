using MachTransport.Samples.Tests.Infrastructure;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>
/// Issue 18 item 10: a sample's server runs as any ASP.NET Core app does: the end of its standard input (nohup, a
/// service manager) stops nothing; SIGTERM stops it cleanly.
/// </summary>
[Trait("Category", "Samples")]
public sealed class SampleServerLifetimeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly string _state = Directory.CreateTempSubdirectory("samples-lifetime-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Theory]
    [InlineData("EchoFiles.dll")]
    [InlineData("MessageStore.dll")]
    public async Task AServerOutlivesTheEndOfItsStdinAndStopsOnSigterm(string sample)
    {
        string service = TestEnvironment.UniqueServiceName("lifetime");
        bool echo = sample == "EchoFiles.dll";
        await using SampleProcess server = await SampleProcess.StartServerAsync(sample, echo ? ["--service", service, "--dir", _state] : ["--service", service, "--data", _state]);
        server.Input.Close();

        // A whole client process later (its runtime's start alone takes longer than a server's stop), it still serves.
        string[] client = echo ? ["client", "--service", service, "hello"] : ["client", "--service", service, "--state", _state, "--queue", "q", "send", "an item"];
        await using SampleProcess caller = SampleProcess.Start(sample, client);
        Assert.True(await caller.WaitForExitAsync(Timeout) == 0, $"{caller}\nserver: {server}");
        Assert.False(server.HasExited, server.ToString());

        Assert.Equal(0, await server.TerminateAsync(Timeout)); // handled: an unhandled SIGTERM ends a process with 143
    }
}
