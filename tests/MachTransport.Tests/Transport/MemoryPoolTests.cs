// Kestrel's transports give each listener a pool from Kestrel's IMemoryPoolFactory and expose it to Kestrel through
// IMemoryPoolFeature, so the transport's pipes and Kestrel's HTTP buffers share one pool (and its metrics).
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit;

namespace MachTransport.Tests.Transport;

[Trait("Category", "Telemetry")]
public sealed class MemoryPoolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AMachConnectionRentsFromKestrelsPoolAndExposesIt()
    {
        string service = TestEnvironment.UniqueServiceName("memory-pool");
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(service));
        await using WebApplication app = builder.Build();
        using var rented = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), "Microsoft.AspNetCore.MemoryPool", "aspnetcore.memory_pool.rented");
        app.MapPost("/pool", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            return $"{context.Features.Get<IMemoryPoolFeature>()?.MemoryPool is not null} {body.Length}";
        });
        await app.StartAsync().WaitAsync(Timeout);

        using var client = new HttpClient(MachHttpHandler.Create(service))
        {
            BaseAddress = new Uri("http://localhost"),
            DefaultRequestVersion = System.Net.HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        HttpResponseMessage response = await client.PostAsync("/pool", new ByteArrayContent(new byte[200_000])).WaitAsync(Timeout);
        Assert.Equal("True 200000", await response.Content.ReadAsStringAsync());

        // The request's bytes passed through the listener's pool, which Kestrel's metrics know by its owner.
        Assert.Contains(rented.GetMeasurementSnapshot(), m => m.Value > 0 && Equals(m.Tags["aspnetcore.memory_pool.owner"], "mach"));
    }
}
