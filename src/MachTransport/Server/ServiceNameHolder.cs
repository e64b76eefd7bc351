using System.Globalization;
using MachTransport.Mach.Linux;

namespace MachTransport.Server;

/// <summary>
/// Which process holds a service name another server wants, for the one line that says so. On Linux the emulation's
/// registrant holds a flock on the name's lock file (docs/linux-emulation.md) and /proc/locks names the pid that took
/// it (fs/locks.c, lock_get_status: <c>ID: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF</c>, MAJ and MIN in hex). On
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

            string file = string.Create(CultureInfo.InvariantCulture, $"{stat.DeviceMajor:x2}:{stat.DeviceMinor:x2}:{stat.Inode}");
            foreach (string line in File.ReadLines(locksPath))
            {
                if (HolderIn(line, file) is int pid)
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
    {
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 6 && fields[1] == "FLOCK" && SameFile(fields[5], file)
            && int.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0
            ? pid
            : null;
    }

    /// <summary>Device numbers compared as numbers: the kernel prints them with at least two hex digits.</summary>
    private static bool SameFile(string listed, string wanted)
    {
        string[] a = listed.Split(':');
        string[] b = wanted.Split(':');
        return a.Length == 3 && b.Length == 3
            && uint.TryParse(a[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint majorA)
            && uint.TryParse(b[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint majorB) && majorA == majorB
            && uint.TryParse(a[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint minorA)
            && uint.TryParse(b[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint minorB) && minorA == minorB
            && a[2] == b[2];
    }
}
