using MachTransport.Mach.Linux;

namespace MachTransport.Server;

/// <summary>
/// Which process holds a service name another server wants, for the one line that says so. On Linux the emulation's
/// registrant holds a flock on the name's lock file (docs/linux-emulation.md) and /proc/locks names the pid that took
/// it (<see cref="FlockLine"/>). On
/// macOS bootstrap_check_in answers BOOTSTRAP_SERVICE_ACTIVE and names nobody, so the pid is unknown there.
/// </summary>
internal static class ServiceNameHolder
{
    /// <summary>The pid holding <paramref name="serviceName"/> in <paramref name="domain"/>; null when it cannot be told.</summary>
    public static unsafe int? FindPid(string serviceName, MachBootstrapDomain domain, string locksPath = "/proc/locks")
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            string directory = (domain == MachBootstrapDomain.System ? BootstrapDomain.System : BootstrapDomain.User).Path;
            string lockFile = Path.Combine(directory, LinuxBootstrap.FileNameFor(directory, serviceName)) + ".lock";
            Libc.Statx stat;
            if (Libc.statx(Libc.AT_FDCWD, lockFile, 0, Libc.STATX_BASIC_STATS, &stat) != 0)
            {
                return null;
            }

            foreach (string line in File.ReadLines(locksPath))
            {
                if (HolderIn(line, (stat.DeviceMajor, stat.DeviceMinor, stat.Inode)) is int pid)
                {
                    return pid;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No /proc, or not readable here: the message goes without the pid.
        }

        return null;
    }

    /// <summary>The pid of a granted FLOCK line on <paramref name="file"/> (<c>MAJ:MIN:INODE</c>); waiters ("->") and a pid hidden from this namespace (0) give null.</summary>
    internal static int? HolderIn(string line, string file)
        => FlockLine.TryParseFile(file, out (uint, uint, ulong) wanted) ? HolderIn(line, wanted) : null;

    private static int? HolderIn(string line, (uint Major, uint Minor, ulong Inode) file)
        => FlockLine.TryParse(line, out (uint, uint, ulong) locked, out int pid) && locked == file && pid > 0 ? pid : null;
}
