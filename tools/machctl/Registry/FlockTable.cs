// Who holds which flock: read from /proc/locks, the kernel's own table (Linux).
using MachTransport.Mach.Linux;

namespace MachTransport.Tools.Registry;

/// <summary>
/// The granted FLOCK locks of /proc/locks by inode (each line read by <see cref="FlockLine"/>). The pid is the process
/// that took the lock; the kernel drops the lock when the last descriptor of its open file closes, so a listed lock
/// always has a live holder.
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
            if (FlockLine.TryParse(line, out (uint, uint, ulong) file, out int pid))
            {
                holders[file] = pid;
            }
        }

        return new FlockTable(holders);
    }

    /// <summary>The pid holding a flock on the file (0 when the kernel hides it from this pid namespace); false when none is held.</summary>
    public bool TryGetHolder(UnixFileStatus file, out int pid)
        => _holders.TryGetValue((file.DeviceMajor, file.DeviceMinor, file.Inode), out pid);
}
