using System.Diagnostics;
using Xunit;

namespace MachTransport.Testing;

/// <summary>A real child process (a test host, a peer, a sample, node) with piped stdio; killed on dispose.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly Task<string> _stderr; // read from the start, so a chatty child never blocks on a full pipe

    private ChildProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="assemblyName"/>.dll from the test output folder with <c>dotnet</c>.</summary>
    public static ChildProcess Start(string assemblyName, params string[] arguments) => Start(assemblyName, null, arguments);

    /// <summary>Starts <paramref name="assemblyName"/>.dll with extra environment variables.</summary>
    public static ChildProcess Start(string assemblyName, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
        => StartUnder([], assemblyName, environment, arguments);

    /// <summary>Starts <paramref name="assemblyName"/>.dll through <paramref name="launcher"/>, a command that runs the rest of its arguments (prlimit, setpriv).</summary>
    public static ChildProcess StartUnder(IReadOnlyList<string> launcher, string assemblyName, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        string[] command = [.. launcher, "dotnet", Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll"), .. arguments];
        return Launch(command[0], AppContext.BaseDirectory, environment, command[1..]);
    }

    /// <summary>Starts any program (node, a dll through <c>dotnet</c>) in <paramref name="workingDirectory"/>.</summary>
    public static ChildProcess StartProgram(string fileName, string workingDirectory, params string[] arguments)
        => Launch(fileName, workingDirectory, null, arguments);

    private static ChildProcess Launch(string fileName, string workingDirectory, IReadOnlyDictionary<string, string>? environment, string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
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

    /// <summary>The next line the child prints, within <paramref name="timeout"/> (default 30 s); its stderr in the error if it ended.</summary>
    public async Task<string> ReadLineAsync(TimeSpan? timeout = null)
    {
        string? line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout ?? DefaultTimeout);
        return line ?? throw new InvalidOperationException($"The child process ended without output. stderr: {await _stderr.WaitAsync(TimeSpan.FromSeconds(10))}");
    }

    public async Task ExpectLineAsync(string expected) => Assert.Equal(expected, await ReadLineAsync());

    public Task WriteLineAsync(string line) => _process.StandardInput.WriteLineAsync(line);

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Everything the child printed on stderr, once it has closed it (bounded).</summary>
    public Task<string> ReadErrorAsync() => _stderr.WaitAsync(DefaultTimeout);

    public Task WaitForExitAsync() => _process.WaitForExitAsync().WaitAsync(DefaultTimeout);

    /// <summary>Waits for the exit (within <paramref name="timeout"/>); returns the rest of stdout and all of stderr.</summary>
    public async Task<(string Output, string Error)> WaitForExitAsync(TimeSpan timeout)
    {
        string output = await _process.StandardOutput.ReadToEndAsync().WaitAsync(timeout);
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return (output, await _stderr.WaitAsync(timeout));
    }

    /// <summary>SIGKILL (no chance to clean up), and wait until the kernel has reaped it.</summary>
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
}
