// The --attach hook: a profiler (strace -c, perf stat, perf record ...) attached to this process and to the main
// server for the measured rounds only, stopped with SIGINT so it writes its summary.
using System.Diagnostics;
using System.Globalization;

namespace MachTransport.Benchmarks;

internal sealed class Profilers : IAsyncDisposable
{
    private readonly List<Process> _processes = [];

    public static async Task<Profilers> AttachAsync(string command, params (string Name, int Pid)[] targets)
    {
        var profilers = new Profilers();
        foreach ((string name, int pid) in targets)
        {
            string line = command.Replace("{pid}", pid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{name}", name, StringComparison.Ordinal);
            var start = new ProcessStartInfo("bash") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec " + line);
            profilers._processes.Add(Process.Start(start)!);
        }

        // Attaching to every thread of a process takes a moment.
        await Task.Delay(TimeSpan.FromSeconds(2));
        return profilers;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Process process in _processes)
        {
            using Process kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        foreach (Process process in _processes)
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            process.Dispose();
        }
    }
}
