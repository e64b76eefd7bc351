using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>A test host, and a well-behaved client that must keep being served while a test attacks the host.</summary>
public abstract class HostWithBystander(string purpose) : IAsyncLifetime
{
    private protected TransportHost Host { get; private set; } = null!;

    private protected HttpClient Bystander { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await TransportHost.StartAsync(purpose);
        Bystander = Host.CreateClient();
        Assert.Equal("hello HTTP/2", await Bystander.GetStringAsync("/hello"));
    }

    public async Task DisposeAsync()
    {
        Bystander.Dispose();
        await Host.DisposeAsync();
    }
}
