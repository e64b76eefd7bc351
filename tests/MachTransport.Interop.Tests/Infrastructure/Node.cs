// Runs the node scripts of tests/interop (grpc-js peers, the http2 client) as child processes.
using System.ComponentModel;
using System.Diagnostics;

namespace MachTransport.Interop.Tests.Infrastructure;

internal static class Node
{
    /// <summary>tests/interop of this checkout (found upwards from the test output folder).</summary>
    public static string InteropDirectory { get; } = FindInteropDirectory();

    /// <summary>Runs <c>node SCRIPT ARGS</c> to its end (bounded) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string script, params string[] arguments)
    {
        await using NodeProcess node = Start(script, arguments);
        return await node.WaitForExitAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>Starts <c>node SCRIPT ARGS</c> in tests/interop; fails with what to do if its packages are missing.</summary>
    public static NodeProcess Start(string script, params string[] arguments)
    {
        if (!Directory.Exists(Path.Combine(InteropDirectory, "node_modules", "@grpc", "grpc-js")))
        {
            throw new InvalidOperationException($"{InteropDirectory}/node_modules is missing: run `npm ci --prefix tests/interop --no-audit --no-fund` (as .ci/run does) before these tests.");
        }

        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = InteropDirectory,
        };
        info.ArgumentList.Add(script);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            return new NodeProcess(Process.Start(info)!);
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException("node is not on PATH: these tests need Node.js (and npm, for `npm ci --prefix tests/interop`).", ex);
        }
    }

    private static string FindInteropDirectory()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "interop");
            if (File.Exists(Path.Combine(candidate, "package-lock.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"No tests/interop/package-lock.json above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A running node script with piped stdio; killed on dispose.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _error;

    public NodeProcess(Process process)
    {
        _process = process;
        _error = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The next line of stdout within <paramref name="timeout"/>; the script's stderr in the error if it ended.</summary>
    public async Task<string> ReadLineAsync(TimeSpan timeout)
    {
        string? line = await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout);
        return line ?? throw new InvalidOperationException($"The node script ended without output. stderr: {await _error.WaitAsync(TimeSpan.FromSeconds(10))}");
    }

    public async Task<(int ExitCode, string Output, string Error)> WaitForExitAsync(TimeSpan timeout)
    {
        string output = await _process.StandardOutput.ReadToEndAsync().WaitAsync(timeout);
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return (_process.ExitCode, output, await _error.WaitAsync(timeout));
    }

    public void CloseInput() => _process.StandardInput.Close();

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
