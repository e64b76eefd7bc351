// Runs machctl as a child process: long-running commands (bridge, expose) and one-shot ones (ping, list).
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xunit;

namespace MachTransport.Tools.Tests;

/// <summary>A running <c>machctl bridge</c> or <c>expose</c>; killed on dispose if still running.</summary>
internal sealed partial class Machctl : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private Machctl(ChildProcess process, string readyLine)
    {
        _process = process;
        ReadyLine = readyLine;
    }

    /// <summary>The line the command prints once it listens.</summary>
    public string ReadyLine { get; }

    /// <summary>The TCP port a bridge listens on (from "listening on 127.0.0.1:PORT, ...").</summary>
    public int Port => int.Parse(PortPattern().Match(ReadyLine).Groups[1].Value, CultureInfo.InvariantCulture);

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts machctl with <paramref name="arguments"/> and waits for its ready line.</summary>
    public static async Task<Machctl> StartAsync(params string[] arguments)
    {
        ChildProcess process = ChildProcess.Start("machctl", ["--verbose", .. arguments]);
        try
        {
            return new Machctl(process, await process.ReadLineAsync(TimeSpan.FromSeconds(60)));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs machctl to its end (bounded) and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments) => RunUnderAsync([], arguments);

    /// <summary>Runs machctl through <paramref name="launcher"/> (setpriv), to its end (bounded); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunUnderAsync(IReadOnlyList<string> launcher, params string[] arguments)
    {
        var info = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in launcher.Skip(1).Concat(launcher.Count > 0 ? ["dotnet"] : []))
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "machctl.dll"));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw;
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Sends SIGTERM, as a service manager would.</summary>
    public void Terminate() => Assert.Equal(0, kill(_process.Id, 15));

    /// <summary>Waits (bounded) for the process to exit; returns its exit code and everything it logged.</summary>
    public async Task<(int ExitCode, string Error)> WaitForExitAsync()
    {
        await _process.WaitForExitAsync();
        return (_process.ExitCode, await _process.ReadErrorAsync());
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+),")]
    private static partial Regex PortPattern();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
