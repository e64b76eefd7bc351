using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>ListenMach without UseMachTransport fails at start with a message that names the missing call.</summary>
[Trait("Category", "Conformance")]
public sealed class MissingTransportTests
{
    [Fact]
    public async Task ListenMachWithoutUseMachTransportNamesUseMachTransport()
    {
        string service = TestEnvironment.UniqueServiceName("no-transport");
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(service));

        // Kestrel reads its options as the app is built (with the minimal hosting model) or started.
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using WebApplication app = builder.Build();
            await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        });

        Assert.Contains("UseMachTransport()", error.Message, StringComparison.Ordinal);
        Assert.Contains(service, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithUseMachTransportTheSameAppStarts()
    {
        string service = TestEnvironment.UniqueServiceName("with-transport");
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(service)); // before UseMachTransport: order does not matter
        builder.WebHost.UseMachTransport();
        await using WebApplication app = builder.Build();

        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }
}
