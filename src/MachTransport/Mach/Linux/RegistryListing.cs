namespace MachTransport.Mach.Linux;

/// <summary>
/// Reads one bootstrap domain's directory without touching a name: no lock taken, no look-up made (what
/// <c>machctl list</c> shows). A name's holder is the process holding the flock on its lock file, from /proc/locks.
/// </summary>
internal static unsafe class RegistryListing
{
    /// <summary>The names of <paramref name="domain"/>'s directory, unsorted; none when the directory does not exist.</summary>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be read by this user.</exception>
    /// <exception cref="IOException">The directory or /proc/locks cannot be read.</exception>
    public static List<MachRegisteredService> Read(MachBootstrapDomain domain, string locksPath = "/proc/locks")
    {
        string directory = Of(domain).Path;
        var names = new List<MachRegisteredService>();
        if (!Directory.Exists(directory))
        {
            return names;
        }

        Dictionary<(uint, uint, ulong), int> holders = ReadHolders(locksPath);
        foreach (string lockFile in Directory.EnumerateFiles(directory, "*.lock"))
        {
            string basePath = lockFile[..^".lock".Length];
            string fileName = Path.GetFileName(basePath);
            Libc.Statx stat;
            int? holder = Libc.statx(Libc.AT_FDCWD, lockFile, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &stat) == 0
                && holders.TryGetValue((stat.DeviceMajor, stat.DeviceMinor, stat.Inode), out int pid) ? pid : null;

            // The name its registrant wrote, if it is the one this file stands for (anyone of the user can write the file).
            string? written = LinuxBootstrap.NameIn(lockFile);
            string name = written is not null && LinuxBootstrap.FileNameFor(directory, written) == fileName ? written : fileName;
            names.Add(new MachRegisteredService(name, domain, holder, File.Exists(basePath + ".sock"), basePath));
        }

        return names;
    }

    /// <summary>
    /// Removes a stale name's files (<see cref="LinuxBootstrap.RemoveIfStale"/>: only while its lock is free and nobody
    /// listens). False for a live name, or where this process may not remove it (the system domain, unless root).
    /// </summary>
    public static bool RemoveIfStale(MachRegisteredService service)
        => Of(service.Domain).MayRegister && LinuxBootstrap.RemoveIfStale(service.BasePath);

    public static BootstrapDomain Of(MachBootstrapDomain domain) => domain == MachBootstrapDomain.System ? BootstrapDomain.System : BootstrapDomain.User;

    /// <summary>The granted FLOCK locks by file (<see cref="FlockLine"/>): the kernel drops one when its last descriptor closes, so a listed holder is alive.</summary>
    private static Dictionary<(uint, uint, ulong), int> ReadHolders(string locksPath)
    {
        var holders = new Dictionary<(uint, uint, ulong), int>();
        foreach (string line in File.ReadLines(locksPath))
        {
            if (FlockLine.TryParse(line, out (uint, uint, ulong) file, out int pid))
            {
                holders[file] = pid;
            }
        }

        return holders;
    }
}
