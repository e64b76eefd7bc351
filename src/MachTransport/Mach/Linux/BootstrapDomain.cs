namespace MachTransport.Mach.Linux;

/// <summary>
/// The directory of one bootstrap domain, as launchd keeps a per-user and a system domain on macOS. The user's is
/// private: owned by the user, mode 0700. The system domain's is root's, mode 0755: any user reaches its names, only
/// root can create, replace or remove a file in it, so only root registers there and reclaims a stale name.
/// </summary>
internal sealed unsafe class BootstrapDomain
{
    /// <summary>Environment variable that puts the system domain elsewhere (tests isolate themselves with it).</summary>
    public const string SystemDirectoryVariable = "MACHTRANSPORT_SYSTEM_BOOTSTRAP_DIR";

    /// <summary>Where the system domain lives by default: root's run-time directory, emptied at boot as launchd's domain is.</summary>
    public const string DefaultSystemDirectory = "/run/machtransport";

    private const int PrivateMode = 0x1C0; // 0700
    private const int SystemMode = 0x1ED; // 0755

    private readonly Lazy<string> _path;

    private BootstrapDomain(Func<string> resolve, bool isSystem)
    {
        _path = new Lazy<string>(resolve);
        IsSystem = isSystem;
    }

    /// <summary>This user's domain: <see cref="LinuxBootstrap.RegistryDirectory"/>.</summary>
    public static BootstrapDomain User { get; } = new(() => LinuxBootstrap.RegistryDirectory, isSystem: false);

    /// <summary>The system domain: <c>$MACHTRANSPORT_SYSTEM_BOOTSTRAP_DIR</c>, else <see cref="DefaultSystemDirectory"/>.</summary>
    public static BootstrapDomain System { get; } = new(
        () => Environment.GetEnvironmentVariable(SystemDirectoryVariable) is { Length: > 0 } configured ? configured : DefaultSystemDirectory,
        isSystem: true);

    /// <summary>The directory, resolved once per process.</summary>
    public string Path => _path.Value;

    public bool IsSystem { get; }

    /// <summary>Mode of a name's lock file, which holds the name: readable by all in the system domain (<c>machctl list</c>).</summary>
    public int LockFileMode => IsSystem ? 0x1A4 /* 0644 */ : 0x180 /* 0600 */;

    /// <summary>Whether this process may register names here: in the system domain only root may.</summary>
    public bool MayRegister => !IsSystem || Libc.geteuid() == 0;

    /// <summary>
    /// The directory, created if asked (mode 0700, or 0755 for the system domain, whatever the umask), or null when it is
    /// missing or unsafe: not a directory, or not owned by this user (root for the system domain), or writable by others
    /// (for the user's, open to anyone else at all).
    /// </summary>
    public string? Ensure(bool create)
    {
        string directory = Path;
        if (create)
        {
            int mode = IsSystem ? SystemMode : PrivateMode;
            if (Libc.mkdir(directory, mode) == 0)
            {
                _ = Libc.chmod(directory, mode); // the umask may have taken the others' search permission off
            }
            else if (Libc.LastError != Libc.EEXIST)
            {
                return null;
            }
        }

        return IsSafe(directory) ? directory : null;
    }

    /// <summary>A directory itself (not a link to one) that only its rightful owner can change, and for a user's domain, read.</summary>
    private bool IsSafe(string path)
    {
        Libc.Statx stat;
        return Libc.statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &stat) == 0
            && (stat.Mode & Libc.S_IFMT) == Libc.S_IFDIR
            && (IsSystem
                ? stat.Uid == 0 && (stat.Mode & 0x12 /* 022 */) == 0
                : stat.Uid == Libc.geteuid() && (stat.Mode & 0x3F /* 077 */) == 0);
    }
}
