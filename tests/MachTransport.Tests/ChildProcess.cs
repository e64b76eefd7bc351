using System.Diagnostics;

using Xunit;

namespace MachTransport.Tests;

/// <summary>A real child process (a test peer or host) started with <c>dotnet</c>; killed on dispose.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="assemblyName"/>.dll from the test output folder.</summary>
    public static ChildProcess Start(string assemblyName, params string[] arguments) => Start(assemblyName, null, arguments);

    /// <summary>Starts <paramref name="assemblyName"/>.dll with extra environment variables.</summary>
    public static ChildProcess Start(string assemblyName, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
        => Start(assemblyName, environment, openFileLimit: null, arguments);

    /// <summary>
    /// Starts <paramref name="assemblyName"/>.dll, with its RLIMIT_NOFILE (soft and hard) set to <paramref name="openFileLimit"/>
    /// when given (prlimit runs it in its own process: the pid is the child's).
    /// </summary>
    public static ChildProcess Start(string assemblyName, IReadOnlyDictionary<string, string>? environment, int? openFileLimit, params string[] arguments)
    {
        var info = new ProcessStartInfo(openFileLimit is null ? "dotnet" : "prlimit")
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (openFileLimit is int limit)
        {
            info.ArgumentList.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--nofile={limit}:{limit}"));
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new ChildProcess(Process.Start(info)!);
    }

    /// <summary>The next line the child prints, within <paramref name="timeout"/> (default 30 s).</summary>
    public async Task<string> ReadLineAsync(TimeSpan? timeout = null)
    {
        string? line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        if (line is null)
        {
            string error = await _process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5));
            throw new InvalidOperationException($"The child process ended without output. stderr: {error}");
        }

        return line;
    }

    public async Task ExpectLineAsync(string expected) => Assert.Equal(expected, await ReadLineAsync());

    /// <summary>SIGKILL, and wait until the kernel has reaped it.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public Task WaitForExitAsync() => _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

    public int ExitCode => _process.ExitCode;

    public Task<string> ReadErrorAsync() => _process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

    public void CloseInput() => _process.StandardInput.Close();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
