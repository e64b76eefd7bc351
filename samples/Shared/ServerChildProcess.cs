// Shared by the samples (linked into each project): a sample's demo starts the sample's own "serve" mode as a child
// process, so client and server really are two processes with Mach between them.
using System.Diagnostics;

namespace MachTransport.Samples;

/// <summary>The server part of a sample, running as a child process: started, awaited until it serves, stopped.</summary>
internal sealed class ServerChildProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>This program in "serve" mode with <paramref name="arguments"/>, once it has printed READY.</summary>
    public static async Task<ServerChildProcess> StartAsync(params string[] arguments)
    {
        // Under "dotnet Sample.dll" the process is the dotnet host; under "dotnet run" it is the apphost.
        string host = Environment.ProcessPath!;
        var info = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ServerChildProcess).Assembly.Location);
        }

        info.ArgumentList.Add("serve");
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var server = new ServerChildProcess(Process.Start(info)!);
        string? ready = await server._process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (ready != "READY")
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"The server did not start (it said '{ready}').");
        }

        return server;
    }

    /// <summary>Asks the server to stop ("stop" on its stdin) and waits for it; kills it if it does not.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("stop");
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
                Console.WriteLine($"server stopped (exit code {_process.ExitCode})");
            }
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }
}
