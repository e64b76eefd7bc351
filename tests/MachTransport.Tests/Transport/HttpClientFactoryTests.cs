using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>
/// IHttpClientFactory clients on a Mach service across processes: <c>UseMachService</c> alone is right (HTTP/2,
/// base address), and an HTTP/1.1 request to an HTTP/2-only endpoint gets a 400 that says what to do.
/// </summary>
[Trait("Category", "CrossProcess")]
public sealed class HttpClientFactoryTests
{
    [Fact]
    public async Task TheReadmeNamedClientAnswers200()
    {
        await using TransportHost host = await TransportHost.StartAsync("factory");
        var services = new ServiceCollection();
        services.AddHttpClient("greeter").UseMachService(host.Service);
        await using ServiceProvider provider = services.BuildServiceProvider();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("greeter");

        using HttpResponseMessage response = await client.GetAsync("/hello").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("hello HTTP/2", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ATypedClientKeepsItsOwnBaseAddressAndCanAskForHttp11()
    {
        await using TransportHost host = await TransportHost.StartAsync("factory-typed");
        var services = new ServiceCollection();
        services.AddHttpClient<TypedClient>(client => client.BaseAddress = new Uri("http://localhost/"))
            .UseMachService(host.Service + ".h1")
            .ConfigureHttpClient(client => client.DefaultRequestVersion = HttpVersion.Version11);
        await using ServiceProvider provider = services.BuildServiceProvider();

        string answer = await provider.GetRequiredService<TypedClient>().Http.GetStringAsync("hello").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("hello HTTP/1.1", answer);
    }

    [Fact]
    public void AnInvalidServiceNameFailsWhereItIsGiven()
    {
        var services = new ServiceCollection();

        ArgumentException error = Assert.Throws<ArgumentException>(() => services.AddHttpClient("bad").UseMachService("has/slash"));

        Assert.Equal("serviceName", error.ParamName);
    }

    [Fact]
    public async Task Http11AgainstAnHttp2OnlyEndpointGetsA400ThatSaysWhatToDo()
    {
        await using TransportHost host = await TransportHost.StartAsync("factory-h1");
        var services = new ServiceCollection();
        // What the README said before: the Mach handler as primary handler, nothing else (HttpClient's default HTTP/1.1).
        services.AddHttpClient("greeter", client => client.BaseAddress = new Uri("http://localhost"))
            .ConfigurePrimaryHttpMessageHandler(() => MachHttpHandler.Create(host.Service));
        await using ServiceProvider provider = services.BuildServiceProvider();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("greeter");

        using HttpResponseMessage response = await client.GetAsync("/hello").WaitAsync(TimeSpan.FromSeconds(30));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("HTTP/2 only", body, StringComparison.Ordinal);
        Assert.Contains("UseMachService", body, StringComparison.Ordinal);
        Assert.Contains("HttpProtocols.Http1", body, StringComparison.Ordinal);
    }

    private sealed class TypedClient(HttpClient http)
    {
        public HttpClient Http { get; } = http;
    }
}
