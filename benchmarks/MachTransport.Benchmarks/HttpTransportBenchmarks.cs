using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using MachTransport.Client;

namespace MachTransport.Benchmarks;

/// <summary>
/// HTTP/2 between two processes over Mach, a Unix domain socket and TCP loopback, side by side in one run
/// against one server process: a small GET (latency), a 1 MiB download and a 1 MiB upload (throughput).
/// </summary>
[MemoryDiagnoser]
public class HttpTransportBenchmarks
{
    private readonly byte[] _payload = new byte[1024 * 1024];
    private Process? _server;
    private HttpClient _client = null!;
    private string _udsPath = string.Empty;

    [Params("mach", "uds", "tcp")]
    public string Transport { get; set; } = "mach";

    // Synchronous: the in-process toolchain does not await an asynchronous setup.
    [GlobalSetup]
    public void Start() => StartAsync().GetAwaiter().GetResult();

    private async Task StartAsync()
    {
        string service = $"com.machtransport.bench.{Environment.ProcessId}.{Transport}";
        _udsPath = Path.Combine(Path.GetTempPath(), $"machtransport-bench-{Environment.ProcessId}-{Transport}.sock");
        File.Delete(_udsPath);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(BenchmarkServer).Assembly.Location);
        start.ArgumentList.Add("server");
        start.ArgumentList.Add(service);
        start.ArgumentList.Add(_udsPath);
        _server = Process.Start(start)!;
        string ready = (await _server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)))!;
        int tcpPort = int.Parse(ready.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

        HttpMessageHandler handler = Transport switch
        {
            "mach" => MachHttpHandler.Create(service),
            "uds" => new SocketsHttpHandler { ConnectCallback = ConnectUnixAsync, EnableMultipleHttp2Connections = true },
            _ => new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        };
        _client = new HttpClient(handler)
        {
            BaseAddress = new Uri(Transport == "tcp" ? $"http://127.0.0.1:{tcpPort}" : "http://localhost"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        Random.Shared.NextBytes(_payload);
        _ = await SmallGetAsync();
    }

    [GlobalCleanup]
    public void Stop()
    {
        _client.Dispose();
        _server?.StandardInput.Close();
        _server?.WaitForExit(10_000);
        _server?.Dispose();
        File.Delete(_udsPath);
    }

    [Benchmark(Description = "GET 64 B")]
    public async Task<int> SmallGetAsync()
    {
        byte[] body = await _client.GetByteArrayAsync("/small");
        return body.Length;
    }

    [Benchmark(Description = "GET 1 MiB")]
    public async Task<int> LargeGetAsync()
    {
        byte[] body = await _client.GetByteArrayAsync("/large");
        return body.Length;
    }

    [Benchmark(Description = "POST 1 MiB")]
    public async Task<string> UploadAsync()
    {
        using var content = new ByteArrayContent(_payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage response = await _client.PostAsync("/upload", content);
        return await response.Content.ReadAsStringAsync();
    }

    private async ValueTask<Stream> ConnectUnixAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_udsPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
