using Xunit;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>One MessageStore server process per test class, on a Mach service of its own; each test uses its own queue.</summary>
public sealed class MessageStoreServerFixture : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("messagestore-data-").FullName;

    public string ServiceName { get; } = TestEnvironment.UniqueServiceName("messagestore");

    internal SampleProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await SampleProcess.StartServerAsync("MessageStore.dll", "--service", ServiceName, "--data", _data);

    public async Task DisposeAsync()
    {
        int exitCode = await Server.StopAsync();
        await Server.DisposeAsync();
        Assert.True(exitCode == 0, $"The server exited with {exitCode}. {Server}");

        // Its clients were killed mid-store and mid-retrieve, sent oversized items, left halfway: none of it is an error of the server's.
        Assert.Empty(Server.ErrorOrCriticalLines());
        Directory.Delete(_data, recursive: true);
    }
}
