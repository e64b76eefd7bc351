using System.Diagnostics;
using System.Text;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>
/// A child process (a sample, or this assembly) started with "dotnet", its stdout and stderr collected line by line,
/// so a test can await a line instead of sleeping. Killed on dispose if it still runs.
/// </summary>
internal sealed class SampleProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly LineLog _output = new();
    private readonly LineLog _error = new();

    private SampleProcess(Process process)
    {
        _process = process;
        Id = process.Id;
        process.OutputDataReceived += (_, e) => _output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => _error.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id { get; }

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    public Stream Input => _process.StandardInput.BaseStream;

    public string Output => _output.Text;

    public string Error => _error.Text;

    /// <summary><paramref name="assembly"/> (a dll beside the tests) with <paramref name="arguments"/>.</summary>
    public static SampleProcess Start(string assembly, params string[] arguments) => Start(assembly, arguments, transportDebug: false);

    /// <summary><paramref name="assembly"/> as the user <paramref name="uid"/> (its group too, no other groups), through setpriv: root only.</summary>
    public static SampleProcess StartAs(uint uid, string assembly, params string[] arguments)
        => Start(assembly, arguments, transportDebug: false, ["/usr/bin/setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups"]);

    /// <summary>A sample in "serve" mode, once it has said READY. It logs why connections close (Debug).</summary>
    public static Task<SampleProcess> StartServerAsync(string assembly, params string[] arguments) => StartServerAsync(assembly, new Dictionary<string, string>(), arguments);

    /// <summary>A sample in "serve" mode with <paramref name="environment"/> added to its own, once it has said READY.</summary>
    public static async Task<SampleProcess> StartServerAsync(string assembly, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        SampleProcess server = Start(assembly, ["serve", .. arguments], transportDebug: true, environment: environment);
        await server.WaitForOutputAsync(line => line == "READY", StartTimeout);
        return server;
    }

    private static SampleProcess Start(string assembly, string[] arguments, bool transportDebug, string[]? launcher = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(launcher?[0] ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (string argument in launcher is null ? [] : launcher[1..].Append("dotnet"))
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        if (transportDebug)
        {
            // Why a connection closed: the transport's reason, and Kestrel's when it aborts (data rates, HTTP/2 errors).
            info.Environment["Logging__LogLevel__MachTransport"] = "Debug";
            info.Environment["Logging__LogLevel__Microsoft.AspNetCore.Server.Kestrel.BadRequests"] = "Debug";
            info.Environment["Logging__LogLevel__Microsoft.AspNetCore.Server.Kestrel.Http2"] = "Debug";
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return new SampleProcess(Process.Start(info)!);
    }

    /// <summary>The first stdout line matching <paramref name="match"/>, awaited for at most <paramref name="timeout"/>.</summary>
    public Task<string> WaitForOutputAsync(Func<string, bool> match, TimeSpan timeout) => _output.WaitForAsync(match, timeout, this);

    /// <summary>The first stderr line matching <paramref name="match"/> (where the samples log), awaited for at most <paramref name="timeout"/>.</summary>
    public Task<string> WaitForErrorAsync(Func<string, bool> match, TimeSpan timeout) => _error.WaitForAsync(match, timeout, this);

    /// <summary>Waits (at most <paramref name="timeout"/>) until the process has exited and its output is all read.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await Task.WhenAll(_process.WaitForExitAsync(), _output.Ended, _error.Ended).WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Asks a sample server to stop ("stop" on stdin); its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _process.StandardInput.WriteLineAsync("stop");
        await _process.StandardInput.FlushAsync();
        return await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGTERM, as a service manager or <c>kill</c> sends it; the exit code once the process has ended.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using Process kill = Process.Start("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        return await WaitForExitAsync(timeout);
    }

    /// <summary>SIGKILL: no chance to clean up. Returns once the process is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    public override string ToString() => $"pid {Id}\nstdout:\n{Output}\nstderr:\n{Error}";

    /// <summary>
    /// The lines of stderr logged at Error or Critical (the console logger's "fail:" and "crit:"): none of what a
    /// client does, hostile or killed, may make a server log there (issue 20 item 9).
    /// </summary>
    public IReadOnlyList<string> ErrorOrCriticalLines() =>
        [.. Error.Split('\n').Where(line => line.StartsWith("fail: ", StringComparison.Ordinal) || line.StartsWith("crit: ", StringComparison.Ordinal))];

    /// <summary>The last <paramref name="count"/> lines of stderr (a long-running server's recent log).</summary>
    public string ErrorTail(int count) => _error.Tail(count);

    /// <summary>The lines of one stream so far, and the waiters for a line yet to come.</summary>
    private sealed class LineLog
    {
        private readonly Lock _lock = new();
        private readonly StringBuilder _text = new();
        private readonly List<string> _lines = [];
        private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Ended => _ended.Task;

        public string Text
        {
            get
            {
                lock (_lock)
                {
                    return _text.ToString();
                }
            }
        }

        public string Tail(int count)
        {
            lock (_lock)
            {
                return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)));
            }
        }

        public void Add(string? line)
        {
            lock (_lock)
            {
                if (line is null)
                {
                    _ended.TrySetResult();
                    foreach ((_, TaskCompletionSource<string> found) in _waiters)
                    {
                        found.TrySetException(new InvalidOperationException("The stream ended without the line awaited."));
                    }

                    _waiters.Clear();
                    return;
                }

                _lines.Add(line);
                _text.Append(line).Append('\n');
                _waiters.RemoveAll(waiter => waiter.Match(line) && waiter.Found.TrySetResult(line));
            }
        }

        public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout, SampleProcess process)
        {
            var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (_lines.Find(line => match(line)) is string already)
                {
                    return already;
                }

                if (_ended.Task.IsCompleted)
                {
                    throw new InvalidOperationException($"The stream ended without the line awaited. {process}");
                }

                _waiters.Add((match, found));
            }

            try
            {
                return await found.Task.WaitAsync(timeout);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                throw new InvalidOperationException($"The line awaited did not come ({e.Message}). {process}", e);
            }
        }
    }
}
