// The server under test: MachTransport.TestHost ("serve <service>") in a child process, so a crash is its exit.
// Its counters come over TCP (/stats opens no Mach connection); descriptors and mappings from /proc.
using System.Diagnostics;
using System.Globalization;

namespace MachTransport.Fuzz;

internal sealed class ServerProcess : IAsyncDisposable
{
    private const int StderrLinesKept = 40;

    private readonly Process _process;
    private readonly HttpClient _tcp;
    private readonly Queue<string> _stderr = new();

    private ServerProcess(Process process, string service, int tcpPort)
    {
        _process = process;
        Service = service;
        _tcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{tcpPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Service { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the server wrote to stderr (its warnings, or the crash).</summary>
    public string StderrTail
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(string service, int keepAliveSeconds)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MachTransport.TestHost.dll"));
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(service);
        info.ArgumentList.Add("--keepalive");
        info.ArgumentList.Add(keepAliveSeconds.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the test host");
        string? ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90)).ConfigureAwait(false);
        if (ready is null || !ready.StartsWith("READY ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"the test host did not start: {ready} {await process.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
        }

        var server = new ServerProcess(process, service, int.Parse(ready[6..], CultureInfo.InvariantCulture));
        process.ErrorDataReceived += (_, e) => server.KeepStderr(e.Data);
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>The server's transport counters (active, protocolErrors, ...).</summary>
    public async Task<Dictionary<string, long>> StatsAsync()
    {
        string text = await _tcp.GetStringAsync("/stats").ConfigureAwait(false);
        return text.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
    }

    public int CountFds() => Directory.GetFiles($"/proc/{Pid}/fd").Length;

    public int CountMappings() => File.ReadLines($"/proc/{Pid}/maps").Count();

    public string[] Mappings() => File.ReadAllLines($"/proc/{Pid}/maps");

    /// <summary>
    /// Mappings of memfds other than the runtime's own JIT double mapping: out-of-line regions (the sender names the memfd),
    /// the ones a leak of received memory would leave.
    /// </summary>
    public int CountMemfdMappings() => File.ReadLines($"/proc/{Pid}/maps").Count(line => line.Contains("/memfd:", StringComparison.Ordinal) && !line.Contains("/memfd:doublemapper", StringComparison.Ordinal));

    /// <summary>Descriptors by what they are (socket, memfd, anon_inode:[eventpoll], ...), for a leak report.</summary>
    public string DescribeFds()
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string fd in Directory.GetFiles($"/proc/{Pid}/fd"))
        {
            string target;
            try
            {
                target = new FileInfo(fd).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                continue;
            }

            string kind = target.StartsWith("socket:", StringComparison.Ordinal) ? "socket"
                : target.StartsWith("/memfd:", StringComparison.Ordinal) ? "memfd"
                : target.StartsWith('/') ? "file"
                : target;
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }

        return string.Join(' ', kinds.Select(k => $"{k.Key}={k.Value}"));
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        _process.Dispose();
    }

    private void KeepStderr(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_stderr)
        {
            _stderr.Enqueue(line);
            while (_stderr.Count > StderrLinesKept)
            {
                _ = _stderr.Dequeue();
            }
        }
    }
}
