using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MachTransport.TestHost;

internal static class Host
{
    public static async Task<int> ServeAsync(string service, bool denyPeers, int? inlineThreshold, int? keepAliveSeconds = null, int? connectionsPerPeer = null, bool systemDomain = false, int? admitUid = null, int? stallSeconds = null, int? shutdownSeconds = null)
    {
        using var counters = new TransportCounters();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        // Console logging goes to stdout, which carries the READY protocol: keep it to warnings, on stderr.
        builder.Logging.AddFilter((_, level) => level >= LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.UseMachTransport(options =>
        {
            options.Limits.InlineThreshold = inlineThreshold ?? options.Limits.InlineThreshold;
            options.MaxConnectionsPerPeerProcess = connectionsPerPeer ?? options.MaxConnectionsPerPeerProcess;
            options.Limits.CreditStallTimeout = stallSeconds is int stall ? TimeSpan.FromSeconds(stall) : options.Limits.CreditStallTimeout;
            if (denyPeers)
            {
                options.PeerPolicy = _ => false;
            }
            else if (admitUid is int admitted)
            {
                options.PeerPolicy = peer => MachTransportOptions.SameUser(peer) || peer.Uid == (uint)admitted;
            }
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            MachBootstrapDomain domain = systemDomain ? MachBootstrapDomain.System : MachBootstrapDomain.User;
            kestrel.ListenMach(service, domain);
            kestrel.ListenMach(service + ".h1", domain, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.KeepAliveTimeout = keepAliveSeconds is int seconds ? TimeSpan.FromSeconds(seconds) : kestrel.Limits.KeepAliveTimeout;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(shutdownSeconds ?? 20));

        WebApplication app = builder.Build();
        Endpoints.Map(app, counters);
        await app.StartAsync();

        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        string tcp = addresses.Addresses.First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        Console.WriteLine($"READY {new Uri(tcp).Port}");

        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is string line)
            {
                if (line == "stop")
                {
                    break;
                }
            }

            await app.StopAsync();
        });
        await app.WaitForShutdownAsync();
        Console.WriteLine("STOPPED");
        return 0;
    }

    public static async Task<int> ClientAsync(string service, string path)
    {
        using var client = new HttpClient(MachHttpHandler.Create(service))
        {
            BaseAddress = new Uri("http://localhost"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        using HttpResponseMessage response = await client.GetAsync(path);
        Console.WriteLine((int)response.StatusCode);
        return 0;
    }

    /// <summary>One HTTP/2 GET over Mach: prints "status body" on one line, or the error's message.</summary>
    public static async Task<int> GetAsync(string service, string path)
    {
        using var client = new HttpClient(MachHttpHandler.Create(service))
        {
            BaseAddress = new Uri("http://localhost"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(60),
        };
        try
        {
            using HttpResponseMessage response = await client.GetAsync(path);
            Console.WriteLine($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        catch (HttpRequestException ex)
        {
            Console.WriteLine(ex.InnerException?.Message ?? ex.Message);
        }

        return 0;
    }
}

/// <summary>
/// Reads Kestrel's meter (connections on Mach endpoints: "active", "total", "closed") and the "MachTransport" meter
/// (server side) of this process. Listening to Kestrel's meter is what makes Kestrel read the endpoint's tags.
/// </summary>
internal sealed class TransportCounters : IDisposable
{
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    private readonly MeterListener _listener = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _kestrelTags = new();
    private long _active;
    private long _total;
    private long _closed;
    private long _protocolErrors;
    private long _rejected;

    public TransportCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name is "MachTransport" or KestrelMeter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => OnMeasurement(instrument, 1, tags));
        _listener.Start();
    }

    public long Cancelled;

    /// <summary>Requests inside /wait or /hang now: the server has the request, not just the connection.</summary>
    public long Waiting;

    /// <summary>The distinct tag sets Kestrel recorded for Mach connections, one line each: "instrument key=value ...".</summary>
    public string KestrelTags => string.Join('\n', _kestrelTags.Keys.Order(StringComparer.Ordinal));

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (instrument.Meter.Name == KestrelMeter)
        {
            OnKestrel(instrument.Name, value, tags);
            return;
        }

        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "machtransport.side" && (string?)tag.Value != "server")
            {
                return;
            }
        }

        switch (instrument.Name)
        {
            case "machtransport.protocol.errors": Interlocked.Add(ref _protocolErrors, value); break;
            case "machtransport.peers.rejected": Interlocked.Add(ref _rejected, value); break;
        }
    }

    private void OnKestrel(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? address = null;
        var text = new System.Text.StringBuilder(instrument);
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            address = tag.Key == "server.address" ? tag.Value as string : address;
            text.Append(' ').Append(tag.Key).Append('=').Append(tag.Value);
        }

        if (address is null || !address.StartsWith("mach:", StringComparison.Ordinal))
        {
            return; // the TCP connections that read these counters
        }

        _kestrelTags.TryAdd(text.ToString(), 0);
        switch (instrument)
        {
            case "kestrel.active_connections":
                Interlocked.Add(ref _active, value);
                if (value > 0)
                {
                    Interlocked.Add(ref _total, value);
                }

                break;
            case "kestrel.connection.duration": Interlocked.Increment(ref _closed); break;
        }
    }

    public override string ToString()
        => $"active={Interlocked.Read(ref _active)} total={Interlocked.Read(ref _total)} closed={Interlocked.Read(ref _closed)} protocolErrors={Interlocked.Read(ref _protocolErrors)} rejected={Interlocked.Read(ref _rejected)} cancelled={Interlocked.Read(ref Cancelled)} waiting={Interlocked.Read(ref Waiting)}";

    public void Dispose() => _listener.Dispose();
}

internal static class Endpoints
{
    public static void Map(WebApplication app, TransportCounters counters)
    {
        app.MapGet("/hello", (HttpContext context) => $"hello {context.Request.Protocol}");
        app.MapPost("/echo", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = context.Request.ContentLength;
            await context.Request.Body.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        app.MapPost("/sha256", async (HttpContext context) =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[81920];
            long length = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
            }

            return $"{length} {Convert.ToHexString(hash.GetHashAndReset())}";
        });
        app.MapGet("/bytes", async (HttpContext context, long n, int seed) =>
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = n;
            var random = new Random(seed);
            byte[] buffer = new byte[65536];
            for (long left = n; left > 0; left -= buffer.Length)
            {
                random.NextBytes(buffer);
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, (int)Math.Min(left, buffer.Length)), context.RequestAborted);
            }
        });
        app.MapGet("/chunks", async (HttpContext context, int count) =>
        {
            for (int i = 0; i < count; i++)
            {
                await context.Response.WriteAsync($"{i}\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });
        app.MapGet("/infinite", async (HttpContext context) =>
        {
            try
            {
                byte[] chunk = new byte[1024];
                while (true)
                {
                    // Once the client is gone Kestrel completes every write at once, and RequestAborted is cancelled
                    // from the thread pool: a loop that only watched the token never gave its thread back, and enough
                    // of them starved the pool that cancels them (PeerCausedLogTests, 1 run in 4). The writer says so.
                    System.IO.Pipelines.FlushResult written = await context.Response.BodyWriter.WriteAsync(chunk, context.RequestAborted);
                    if (written.IsCompleted || written.IsCanceled)
                    {
                        Interlocked.Increment(ref counters.Cancelled);
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref counters.Cancelled);
            }
        });
        app.MapGet("/peer", (HttpContext context) =>
        {
            MachPeerCredentials? peer = context.Features.Get<IMachPeerCredentialsFeature>()?.Credentials;
            return peer is MachPeerCredentials known ? $"{known.Pid} {known.Uid} {known.Gid}" : "none";
        });
        // Deliberately ignores RequestAborted: graceful shutdown must let it finish.
        app.MapGet("/wait", async (int ms) =>
        {
            Interlocked.Increment(ref counters.Waiting);
            try
            {
                await Task.Delay(ms);
                return "done";
            }
            finally
            {
                Interlocked.Decrement(ref counters.Waiting);
            }
        });
        // Honours RequestAborted: a request whose client died must end, and its connection with it.
        app.MapGet("/hang", async (HttpContext context) =>
        {
            Interlocked.Increment(ref counters.Waiting);
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref counters.Waiting);
            }
        });
        app.MapGet("/stats", () => counters.ToString());
        // What nothing references any more is collected now: Kestrel's heartbeat then reports a connection whose
        // processing was dropped unfinished (ApplicationNeverCompleted, at Critical) within a second.
        app.MapGet("/gc", () =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return "collected";
        });
        app.MapGet("/kestrel-tags", () => counters.KestrelTags);
    }
}
