using System.Net;
using MachTransport.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>The ready handler plugs into IHttpClientFactory as the primary handler.</summary>
[Trait("Category", "CrossProcess")]
public sealed class HttpClientFactoryTests
{
    [Fact]
    public async Task NamedClientWithTheMachHandlerCallsTheService()
    {
        await using TransportHost host = await TransportHost.StartAsync("factory");
        var services = new ServiceCollection();
        services.AddHttpClient("greeter", client =>
        {
            client.BaseAddress = new Uri("http://localhost");
            client.DefaultRequestVersion = HttpVersion.Version20;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }).ConfigurePrimaryHttpMessageHandler(() => MachHttpHandler.Create(host.Service));
        await using ServiceProvider provider = services.BuildServiceProvider();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("greeter");
        Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello").WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
