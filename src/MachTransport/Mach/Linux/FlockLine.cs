using System.Globalization;

namespace MachTransport.Mach.Linux;

/// <summary>
/// One line of /proc/locks, the kernel's table of who holds which lock: <c>ID: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF</c>
/// (fs/locks.c, lock_get_status; MAJ and MIN in hex). A registrant holds a flock on its name's lock file, so this names
/// the process behind a registered name (for the server refused that name, and for machctl).
/// </summary>
internal static class FlockLine
{
    /// <summary>A granted FLOCK line: the file it locks and the pid that took it (0 when the kernel hides it from this pid namespace).</summary>
    public static bool TryParse(string line, out (uint Major, uint Minor, ulong Inode) file, out int pid)
    {
        file = default;
        pid = 0;
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 6 && fields[1] == "FLOCK" // not a waiter ("->"), nor a POSIX/OFD lock
            && int.TryParse(fields[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out pid)
            && TryParseFile(fields[5], out file);
    }

    /// <summary>A file as /proc/locks names it, <c>MAJ:MIN:INODE</c>; device numbers are compared as numbers (at least two hex digits each).</summary>
    public static bool TryParseFile(string id, out (uint Major, uint Minor, ulong Inode) file)
    {
        file = default;
        string[] parts = id.Split(':');
        return parts.Length == 3
            && uint.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out file.Major)
            && uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out file.Minor)
            && ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out file.Inode);
    }
}
