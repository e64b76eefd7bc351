using System.Diagnostics;

namespace MachTransport.Testing;

/// <summary>
/// Processes of user nobody (uid and gid 65534, no supplementary groups), started by this root test run with setpriv.
/// They run the dotnet host and the test assemblies where they are: both are readable by every user on these machines
/// (/usr/share/dotnet, the worktree's build output); the tests skip where the run is not root.
/// </summary>
public static class Nobody
{
    public const uint Uid = 65534;

    /// <summary>The command that runs the rest of its arguments as nobody.</summary>
    public static IReadOnlyList<string> Launcher { get; } = ["/usr/bin/setpriv", $"--reuid={Uid}", $"--regid={Uid}", "--clear-groups"];

    /// <summary>
    /// <paramref name="assemblyName"/>.dll as nobody, in this run's environment: its registry directory is root's, which
    /// refuses nobody, so its own ports take a private directory each and its look-ups fall through to the system domain.
    /// </summary>
    public static ChildProcess Start(string assemblyName, params string[] arguments) => ChildProcess.StartUnder(Launcher, assemblyName, null, arguments);

    /// <summary>Runs a command as nobody; returns its exit code and what it printed on stderr.</summary>
    public static async Task<(int ExitCode, string Error)> RunAsync(params string[] command)
    {
        var info = new ProcessStartInfo(Launcher[0]) { UseShellExecute = false, RedirectStandardError = true };
        foreach (string argument in Launcher.Skip(1).Concat(command))
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        string error = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, error);
    }

    /// <summary>The one line <paramref name="assemblyName"/> prints as nobody before it exits.</summary>
    public static async Task<string> OutputOfAsync(string assemblyName, params string[] arguments)
    {
        await using ChildProcess child = Start(assemblyName, arguments);
        string line = await child.ReadLineAsync(TimeSpan.FromSeconds(90));
        await child.WaitForExitAsync();
        return line;
    }
}
