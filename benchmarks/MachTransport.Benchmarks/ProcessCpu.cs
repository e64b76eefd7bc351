// CPU time (user + system) of a process, read from /proc/<pid>/stat: the harness reads its own and the server's
// around each batch, so a case's CPU per operation counts both ends of the call.
using System.Globalization;

namespace MachTransport.Benchmarks;

internal static class ProcessCpu
{
    // USER_HZ: the unit of utime and stime in /proc (100 on every Linux ABI .NET runs on).
    private const double TicksPerSecond = 100;

    /// <summary>Seconds of CPU <paramref name="pid"/> has used so far (all its threads, live and exited).</summary>
    public static double Seconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis. utime and stime are
        // fields 14 and 15, the 12th and 13th after it.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }
}
