using System.Net;
using System.Security.Cryptography;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>HTTP/1.1 and HTTP/2 between this process (client) and the test host (server) over Mach.</summary>
[Trait("Category", "CrossProcess")]
public sealed class HttpOverMachTests : IAsyncLifetime
{
    private TransportHost _host = null!;

    public async Task InitializeAsync() => _host = await TransportHost.StartAsync("http", "--per-peer", "256"); // 200 connections from this one process

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData(true, "HTTP/2")]
    [InlineData(false, "HTTP/1.1")]
    public async Task GetReturnsTheBodyOverTheRequestedProtocol(bool http2, string protocol)
    {
        using HttpClient client = _host.CreateClient(http2);
        using HttpResponseMessage response = await client.GetAsync("/hello");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(http2 ? HttpVersion.Version20 : HttpVersion.Version11, response.Version);
        Assert.Equal($"hello {protocol}", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PostEchoesTheBody(bool http2)
    {
        using HttpClient client = _host.CreateClient(http2);
        byte[] body = RandomNumberGenerator.GetBytes(100_000);
        using HttpResponseMessage response = await client.PostAsync("/echo", new ByteArrayContent(body));
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HundredConcurrentHttp2StreamsShareOneConnection()
    {
        using HttpClient client = _host.CreateClient();
        long totalBefore = (await _host.StatsAsync())["total"];
        string[] bodies = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => client.GetStringAsync($"/chunks?count={i % 7 + 1}")))
            .WaitAsync(TimeSpan.FromSeconds(60));
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(string.Concat(Enumerable.Range(0, i % 7 + 1).Select(j => $"{j}\n")), bodies[i]);
        }

        // SocketsHttpHandler opens more HTTP/2 connections only past the server's stream limit (100 by default in Kestrel).
        long opened = (await _host.StatsAsync())["total"] - totalBefore;
        Assert.InRange(opened, 1, 2);
    }

    [Fact]
    public async Task SixtyFourMiBRequestArrivesByteExact()
    {
        using HttpClient client = _host.CreateClient();
        byte[] body = new byte[64 * 1024 * 1024];
        new Random(7).NextBytes(body);
        using HttpResponseMessage response = await client.PostAsync("/sha256", new ByteArrayContent(body)).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal($"{body.Length} {Convert.ToHexString(SHA256.HashData(body))}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SixtyFourMiBResponseArrivesByteExact()
    {
        const int size = 64 * 1024 * 1024;
        using HttpClient client = _host.CreateClient();
        byte[] received = await client.GetByteArrayAsync($"/bytes?n={size}&seed=11").WaitAsync(TimeSpan.FromSeconds(90));
        byte[] expected = new byte[size];
        var random = new Random(11);
        byte[] block = new byte[65536];
        for (int offset = 0; offset < size; offset += block.Length)
        {
            random.NextBytes(block);
            block.CopyTo(expected, offset);
        }

        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(received));
    }

    [Fact]
    public async Task ResponseStreamedInTenThousandChunksArrivesInOrder()
    {
        using HttpClient client = _host.CreateClient();
        using HttpResponseMessage response = await client.GetAsync("/chunks?count=10000", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        for (int i = 0; i < 10_000; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Null(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task CancellingMidStreamReachesTheServerAndTheConnectionKeepsWorking()
    {
        using HttpClient client = _host.CreateClient();
        using (var cancel = new CancellationTokenSource())
        {
            using HttpResponseMessage response = await client.GetAsync("/infinite", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            Stream stream = await response.Content.ReadAsStreamAsync(cancel.Token);
            byte[] buffer = new byte[4096];
            Assert.True(await stream.ReadAsync(buffer, cancel.Token) > 0);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                while (await stream.ReadAsync(buffer, cancel.Token) > 0)
                {
                }
            });
        }

        await _host.WaitForStatsAsync(s => s["cancelled"] >= 1);
        Assert.Equal("hello HTTP/2", await client.GetStringAsync("/hello"));
    }

    [Fact]
    public async Task TwoHundredConcurrentClientConnections()
    {
        HttpClient[] clients = Enumerable.Range(0, 200).Select(_ => _host.CreateClient()).ToArray();
        try
        {
            string[] bodies = await Task.WhenAll(clients.Select(c => c.GetStringAsync("/hello"))).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.All(bodies, b => Assert.Equal("hello HTTP/2", b));
            Assert.True((await _host.StatsAsync())["active"] >= 200);
        }
        finally
        {
            foreach (HttpClient client in clients)
            {
                client.Dispose();
            }
        }

        await _host.WaitForStatsAsync(s => s["active"] == 0, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task PeerFeaturesShowThisProcess()
    {
        using HttpClient client = _host.CreateClient();
        string[] peer = (await client.GetStringAsync("/peer")).Split(' ');
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), peer[0]);
        Assert.Equal(Identity.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), peer[1]);
        Assert.Equal(Identity.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture), peer[2]);
    }
}
