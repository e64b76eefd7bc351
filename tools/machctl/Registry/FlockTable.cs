// Who holds which flock: read from /proc/locks, the kernel's own table (Linux).
using System.Globalization;

namespace MachTransport.Tools.Registry;

/// <summary>
/// The granted FLOCK locks of /proc/locks by inode. Each line reads
/// <c>ID: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF</c> (fs/locks.c, lock_get_status; MAJ and MIN in hex);
/// waiters are marked "->" and skipped. The pid is the process that took the lock; the kernel drops the lock when
/// the last descriptor of its open file closes, so a listed lock always has a live holder.
/// </summary>
internal sealed class FlockTable
{
    private readonly Dictionary<(uint Major, uint Minor, ulong Inode), int> _holders;

    private FlockTable(Dictionary<(uint, uint, ulong), int> holders) => _holders = holders;

    public static FlockTable Read(string path = "/proc/locks")
    {
        var holders = new Dictionary<(uint, uint, ulong), int>();
        foreach (string line in File.ReadLines(path))
        {
            if (TryParse(line, out (uint, uint, ulong) file, out int pid))
            {
                holders[file] = pid;
            }
        }

        return new FlockTable(holders);
    }

    /// <summary>The pid holding a flock on the file (0 when the kernel hides it from this pid namespace); false when none is held.</summary>
    public bool TryGetHolder(UnixFileStatus file, out int pid)
        => _holders.TryGetValue((file.DeviceMajor, file.DeviceMinor, file.Inode), out pid);

    internal static bool TryParse(string line, out (uint Major, uint Minor, ulong Inode) file, out int pid)
    {
        file = default;
        pid = 0;
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 6 || fields[1] != "FLOCK")
        {
            return false; // a waiter ("->"), or a POSIX/OFD lock
        }

        string[] id = fields[5].Split(':');
        return id.Length == 3
            && int.TryParse(fields[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out pid)
            && uint.TryParse(id[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out file.Major)
            && uint.TryParse(id[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out file.Minor)
            && ulong.TryParse(id[2], NumberStyles.None, CultureInfo.InvariantCulture, out file.Inode);
    }
}
