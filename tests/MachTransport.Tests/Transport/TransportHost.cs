using System.Net;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>The test host (an ASP.NET Core app on Mach + TCP) in a child process, with clients for it.</summary>
internal sealed class TransportHost : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly HttpClient _tcp;

    private TransportHost(ChildProcess process, string service, int tcpPort)
    {
        _process = process;
        Service = service;
        TcpPort = tcpPort;
        _tcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{tcpPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Service { get; }

    public int TcpPort { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static Task<TransportHost> StartAsync(string purpose, params string[] extra)
        => StartOnAsync(TestEnvironment.UniqueServiceName(purpose), extra);

    public static Task<TransportHost> StartOnAsync(string service, params string[] extra) => StartOnAsync(service, openFileLimit: null, extra);

    /// <summary>The host with its RLIMIT_NOFILE set to <paramref name="openFileLimit"/>, to drive it to its descriptor limit in a small test.</summary>
    public static Task<TransportHost> StartLimitedAsync(string purpose, int openFileLimit)
        => StartOnAsync(TestEnvironment.UniqueServiceName(purpose), openFileLimit, []);

    private static async Task<TransportHost> StartOnAsync(string service, int? openFileLimit, string[] extra)
    {
        ChildProcess process = ChildProcess.StartUnder(
            openFileLimit is int limit ? ["prlimit", $"--nofile={limit}:{limit}"] : [], "MachTransport.TestHost", null, ["serve", service, .. extra]);
        try
        {
            string ready = await process.ReadLineAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("READY ", ready);
            return new TransportHost(process, service, int.Parse(ready[6..], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>An HttpClient over Mach: HTTP/2 with prior knowledge, or HTTP/1.1 against the ".h1" service.</summary>
    public HttpClient CreateClient(bool http2 = true, MachClientOptions? options = null) => new(MachHttpHandler.Create(http2 ? Service : Service + ".h1", options))
    {
        BaseAddress = new Uri("http://localhost"),
        DefaultRequestVersion = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>The server's transport counters, read over TCP (so reading them opens no Mach connection).</summary>
    public async Task<Dictionary<string, long>> StatsAsync()
    {
        string text;
        try
        {
            text = await _tcp.GetStringAsync("/stats");
        }
        catch (HttpRequestException ex)
        {
            if (await ExitedAsync())
            {
                throw new InvalidOperationException($"The test host exited ({_process.ExitCode}): {await _process.ReadErrorAsync()}", ex);
            }

            throw;
        }

        return text.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds for the server's counters.</summary>
    public async Task<Dictionary<string, long>> WaitForStatsAsync(Func<Dictionary<string, long>, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            Dictionary<string, long> stats = await StatsAsync();
            if (condition(stats))
            {
                return stats;
            }

            await Task.Delay(20, deadline.Token);
        }
    }

    private async Task<bool> ExitedAsync()
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// A full collection in the host, then at least one whole tick of Kestrel's heartbeat (it stamps the Date header,
    /// then walks the connections): a connection whose processing was dropped unfinished is logged by then
    /// (ApplicationNeverCompleted, at Critical).
    /// </summary>
    public async Task CollectGarbageAsync()
    {
        using HttpResponseMessage collected = await _tcp.GetAsync("/gc");
        DateTimeOffset at = collected.Headers.Date ?? throw new InvalidOperationException("Kestrel sent no Date header.");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            using HttpResponseMessage now = await _tcp.GetAsync("/stats", deadline.Token);
            if (now.Headers.Date >= at.AddSeconds(2))
            {
                return;
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    public int CountOpenFds() => Directory.GetFiles($"/proc/{Pid}/fd").Length;

    /// <summary>Graceful stop: closes the host's stdin; the host stops Kestrel and prints STOPPED.</summary>
    public async Task StopAsync()
    {
        _process.CloseInput();
        Assert.Equal("STOPPED", await _process.ReadLineAsync(TimeSpan.FromSeconds(30)));
        await _process.WaitForExitAsync();
    }

    public Task KillAsync() => _process.KillAsync();

    /// <summary>Stops the host gracefully; what it logged (warnings and above, on stderr).</summary>
    public async Task<string> StopAndReadLogAsync()
    {
        await StopAsync();
        return await _process.ReadErrorAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        await _process.DisposeAsync();
    }
}
