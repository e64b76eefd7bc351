using System.Diagnostics;

namespace MachTransport.Grpc.Tests.Infrastructure;

/// <summary>A child process (this assembly in "serve" mode, or node) with piped stdio; killed on dispose.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private ChildProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public int ExitCode => _process.ExitCode;

    public int Id => _process.Id;

    /// <summary>This test assembly as a server (<c>dotnet MachTransport.Grpc.Tests.dll serve &lt;service&gt;</c>), once it serves.</summary>
    /// <returns>The process and the TCP port it also listens on.</returns>
    public static async Task<(ChildProcess Server, int TcpPort)> StartTesterServerAsync(string serviceName)
    {
        ChildProcess server = Start("dotnet", AppContext.BaseDirectory, typeof(ChildProcess).Assembly.Location, "serve", serviceName);
        string ready = await server.ReadLineAsync(TimeSpan.FromSeconds(60));
        if (!ready.StartsWith("READY ", StringComparison.Ordinal))
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"The tester server said '{ready}' instead of READY.");
        }

        return (server, int.Parse(ready["READY ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public static ChildProcess Start(string fileName, string workingDirectory, params string[] arguments)
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

        return new ChildProcess(Process.Start(info)!);
    }

    /// <summary>The next line of stdout within <paramref name="timeout"/>; the child's stderr in the error if it ended.</summary>
    public async Task<string> ReadLineAsync(TimeSpan timeout)
    {
        string? line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout);
        return line ?? throw new InvalidOperationException($"The child process ended without output. stderr: {await _stderr.WaitAsync(TimeSpan.FromSeconds(10))}");
    }

    /// <summary>All remaining stdout, after the process has exited (within <paramref name="timeout"/>).</summary>
    public async Task<(string Output, string Error)> WaitForExitAsync(TimeSpan timeout)
    {
        string output = await _process.StandardOutput.ReadToEndAsync().WaitAsync(timeout);
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return (output, await _stderr.WaitAsync(timeout));
    }

    public Task WriteLineAsync(string line) => _process.StandardInput.WriteLineAsync(line);

    /// <summary>Kills the process with SIGKILL (no chance to clean up) and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }
}
