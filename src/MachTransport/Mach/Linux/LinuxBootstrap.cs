using System.Security.Cryptography;
using System.Text;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The bootstrap namespace, as launchd's domains are on macOS: the user's, a directory of mode 0700 owned by the user,
/// and the system domain, root's (<see cref="BootstrapDomain"/>). Each holds per service a lock file (held with flock by
/// the live registrant, so a crashed one's name is reclaimed at once; it holds the name) and a listening SOCK_SEQPACKET
/// socket. A look-up connects and is handed a send right (SCM_RIGHTS); one the user's domain cannot answer falls through
/// to the system domain, so a user's name shadows a system name, as on macOS.
/// The user's directory is <c>$MACHTRANSPORT_BOOTSTRAP_DIR</c>, else <c>$XDG_RUNTIME_DIR/machtransport</c>, else
/// <c>$HOME/.machtransport</c>, else (no home directory of this user) <c>machtransport-&lt;uid&gt;</c> in the temporary directory.
/// </summary>
internal sealed unsafe class LinuxBootstrap
{
    /// <summary>Environment variable that points the namespace elsewhere (tests isolate themselves with it).</summary>
    public const string DirectoryVariable = "MACHTRANSPORT_BOOTSTRAP_DIR";

    private const int LookUpTimeoutMilliseconds = 5000;

    /// <summary>The answer to a look-up the registrant has no descriptor for, or cannot pass one (BOOTSTRAP_NO_MEMORY).</summary>
    private static ReadOnlySpan<byte> OutOfDescriptors => "E"u8;
    private static readonly Lazy<string> s_registryDirectory = new(() => ResolveRegistryDirectory(
        Environment.GetEnvironmentVariable(DirectoryVariable),
        Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"),
        Path.GetTempPath(),
        Environment.GetEnvironmentVariable("HOME"),
        Libc.geteuid()));

    private readonly LinuxKernel _kernel;
    private readonly KernelThread _thread;

    public LinuxBootstrap(LinuxKernel kernel, KernelThread thread)
    {
        _kernel = kernel;
        _thread = thread;
    }

    /// <summary>The registry directory this process uses, resolved once.</summary>
    public static string RegistryDirectory => s_registryDirectory.Value;

    /// <summary>
    /// The configured directory, else <c>machtransport</c> under XDG_RUNTIME_DIR, else <c>.machtransport</c> in the home
    /// directory when it is a directory of this user, else <c>machtransport-&lt;uid&gt;</c> in the temporary directory.
    /// Nothing another user does changes the choice (the home directory is the user's own), so every process of the user
    /// resolves the same way at any moment; a <c>machtransport-&lt;uid&gt;</c> someone else created is refused, never passed over.
    /// </summary>
    internal static string ResolveRegistryDirectory(string? configured, string? runtime, string temporaryRoot, string? home, uint uid)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        if (!string.IsNullOrEmpty(runtime))
        {
            return Path.Combine(runtime, "machtransport");
        }

        return !string.IsNullOrEmpty(home) && IsOwnDirectory(home, uid)
            ? Path.Combine(home, ".machtransport")
            : Path.Combine(temporaryRoot, $"machtransport-{uid}");
    }

    public BootstrapStatus CheckIn(string serviceName, BootstrapDomain domain, out uint receiveRight)
    {
        receiveRight = MachPort.Null;
        if (!IsValidName(serviceName))
        {
            return BootstrapName.InvalidName;
        }

        string? directory = domain.MayRegister ? domain.Ensure(create: true) : null;
        if (directory is null)
        {
            return BootstrapStatus.NotPrivileged;
        }

        string basePath = Path.Combine(directory, FileNameFor(directory, serviceName));
        BootstrapStatus locked = LockName(basePath + ".lock", serviceName, domain, out LinuxFd? lockFile);
        if (lockFile is null)
        {
            return locked;
        }

        // We hold the lock. A socket file left here belongs to a registrant that died, unless someone still listens on
        // it: a live registrant whose lock file was removed (anyone of this user can unlink it). Its name stays its own.
        string socketPath = basePath + ".sock";
        if (IsListenedOn(socketPath))
        {
            lockFile.Dispose();
            return BootstrapStatus.ServiceActive;
        }

        _ = Libc.unlink(socketPath);
        LinuxFd? listener = Listen(socketPath, domain);
        PortIdentity socketFile = FileIdentity(socketPath);
        if (listener is null || socketFile.IsNone)
        {
            listener?.Dispose();
            lockFile.Dispose();
            return BootstrapStatus.NoMemory;
        }

        KernReturn allocated = _kernel.AllocatePort(MachPortRight.Receive, out receiveRight);
        if (allocated != KernReturn.Success)
        {
            listener.Dispose();
            _ = Libc.unlink(socketPath);
            lockFile.Dispose();
            return BootstrapStatus.NoMemory;
        }

        LinuxFd servicePath = _kernel.DuplicatePath(receiveRight);
        if (servicePath.IsInvalid)
        {
            servicePath.Dispose();
            _ = _kernel.ModRefs(receiveRight, MachPortRight.Receive, -1);
            receiveRight = MachPort.Null;
            listener.Dispose();
            _ = Libc.unlink(socketPath);
            lockFile.Dispose();
            return BootstrapStatus.NoMemory;
        }

        var registration = new BootstrapRegistration(serviceName, domain, socketPath, socketFile, lockFile, listener, servicePath);
        _kernel.AttachService(receiveRight, registration);
        registration.MonitorKey = _thread.Watch(listener, Libc.EPOLLIN, () => HandOutSendRights(registration));
        return BootstrapStatus.Success;
    }

    /// <summary>
    /// Looks the name up in this user's domain, then, when that has no such name (or cannot be used), in the system
    /// domain. Failing both, the user's domain's answer, unless only the system domain's directory is unsafe.
    /// </summary>
    public BootstrapStatus LookUp(string serviceName, out uint sendRight)
    {
        sendRight = MachPort.Null;
        if (!IsValidName(serviceName))
        {
            return BootstrapName.InvalidName;
        }

        BootstrapStatus own = LookUpIn(BootstrapDomain.User, serviceName, out sendRight);
        if (own is not (BootstrapStatus.UnknownService or BootstrapStatus.NotPrivileged))
        {
            return own;
        }

        BootstrapStatus system = LookUpIn(BootstrapDomain.System, serviceName, out sendRight);
        return system is BootstrapStatus.Success or BootstrapStatus.NoMemory || own == BootstrapStatus.UnknownService ? system : own;
    }

    private BootstrapStatus LookUpIn(BootstrapDomain domain, string serviceName, out uint sendRight)
    {
        sendRight = MachPort.Null;
        string? directory = domain.Ensure(create: false);
        if (directory is null)
        {
            return Directory.Exists(domain.Path) ? BootstrapStatus.NotPrivileged : BootstrapStatus.UnknownService;
        }

        string socketPath = Path.Combine(directory, FileNameFor(directory, serviceName)) + ".sock";
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            return BootstrapStatus.NoMemory;
        }

        using var connection = LinuxFd.PeerWritable(fd); // the registrant may queue more than its answer
        // Bounded: a listener that never accepts (a stopped registrant, or a squatter's socket) must not hang the caller.
        int refused = SocketPath.ConnectWithin(fd, socketPath, LookUpTimeoutMilliseconds);
        if (refused != 0)
        {
            // No socket, one whose registrant died (nobody listens), or one nobody answers: the name is not registered.
            return refused == Libc.EACCES ? BootstrapStatus.NotPrivileged : BootstrapStatus.UnknownService;
        }

        if (Poll.Wait(fd, Libc.POLLIN, -1, LookUpTimeoutMilliseconds) != PollResult.Ready)
        {
            return BootstrapStatus.UnknownService;
        }

        var fds = new List<int>(1);
        Span<byte> data = stackalloc byte[1];
        Span<byte> control = stackalloc byte[SeqPacket.ReceiveControlSize];
        DatagramRead received = SeqPacket.Receive(fd, data, control, fds, out _, out _, out _);
        if (received.Length == 1 && data[0] == OutOfDescriptors[0] && fds.Count == 0)
        {
            return BootstrapStatus.NoMemory;
        }

        if (received.Length != 1 || fds.Count != 1 || PortSocket.Identity(fds[0]).IsNone)
        {
            DeferredClose.CloseAll(fds, DeferredClose.NoOwner);
            return BootstrapStatus.UnknownService;
        }

        sendRight = _kernel.InstallSendRight(fds[0]);
        if (sendRight == MachPort.Dead)
        {
            sendRight = MachPort.Null;
            return BootstrapStatus.UnknownService; // the registrant died between hand-out and connect
        }

        return BootstrapStatus.Success;
    }

    /// <summary>
    /// Whether look-ups of the name still reach this registration: false once its socket file was removed or replaced
    /// (by hand, since a live name cannot be checked in again), when new clients reach someone else or no one.
    /// </summary>
    public static bool StillHolds(BootstrapRegistration registration) => FileIdentity(registration.SocketPath) == registration.SocketFile;

    /// <summary>
    /// Removes the files of the name at <paramref name="basePath"/> (a lock file's path without <c>.lock</c>) when nobody
    /// holds it: its lock is free (taken for the removal) and nobody listens on its socket file. False when the name is
    /// live or the files are not this process's to remove (another user's, or the system domain's for anyone but root).
    /// </summary>
    public static bool RemoveIfStale(string basePath)
    {
        int lockFd = Libc.open(basePath + ".lock", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (lockFd < 0)
        {
            return false;
        }

        using var lockFile = new LinuxFd(lockFd);
        if (Libc.flock(lockFd, Libc.LOCK_EX | Libc.LOCK_NB) != 0 || IsListenedOn(basePath + ".sock"))
        {
            return false;
        }

        // A registrant that opened the lock file before this unlink finds it no longer at the path once it has the lock, and opens it again.
        return (Libc.unlink(basePath + ".sock") == 0 || Libc.LastError == Libc.ENOENT) && Libc.unlink(basePath + ".lock") == 0;
    }

    /// <summary>
    /// Releases a name: no longer listened on, its socket file removed, lock dropped. The lock file stays: someone who
    /// took the name over by hand may hold the file at that path by now (<c>machctl prune</c> removes stale ones).
    /// </summary>
    public void Unregister(BootstrapRegistration registration)
    {
        _thread.Unwatch(registration.MonitorKey, registration.Listener);
        if (StillHolds(registration))
        {
            _ = Libc.unlink(registration.SocketPath); // not the socket file of whoever took the name over
        }

        registration.Listener.Dispose();
        registration.ServicePath.Dispose();
        registration.LockFile.Dispose();
    }

    /// <summary>
    /// Runs on the kernel thread: each pending look-up gets a send right (a copy of the service port's O_PATH). With this process's
    /// descriptor table full or no room above <see cref="DescriptorBudget.Reserve"/>, a look-up is refused with <see cref="OutOfDescriptors"/> (BOOTSTRAP_NO_MEMORY at the
    /// caller) rather than left pending, which would wake the level-triggered watch forever.
    /// </summary>
    private void HandOutSendRights(BootstrapRegistration registration)
    {
        // Unregister may dispose both on another thread at any moment; an exception here would end the process.
        using LinuxFd.Lease listener = registration.Listener.TryAcquire();
        using LinuxFd.Lease send = registration.ServicePath.TryAcquire();
        if (!listener.Holds || !send.Holds)
        {
            return;
        }

        Span<int> right = [send.Number];
        while (true)
        {
            bool room = DescriptorBudget.HasRoom(1);
            int connection = room ? Libc.accept4(listener.Number, null, null, Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK) : -1;
            if (connection < 0)
            {
                int error = room ? Libc.LastError : Libc.EMFILE; // no room above the reserve: refused as at the limit
                if (error is Libc.EMFILE or Libc.ENFILE && _thread.Refuse(listener.Number, OutOfDescriptors))
                {
                    continue;
                }

                if (error is not (Libc.EAGAIN or Libc.EINTR))
                {
                    _thread.Pause(registration.MonitorKey);
                }

                return;
            }

            if (SeqPacket.Send(connection, "S"u8, right) != 0)
            {
                // ETOOMANYREFS (this user's descriptors in flight are at their limit) and the like: say so, without a descriptor.
                _ = SeqPacket.Send(connection, OutOfDescriptors, []);
            }

            DeferredClose.ShutDownAndClose(connection); // the look-up may have queued descriptors whose release it holds up
        }
    }

    /// <summary>The same rule as on Darwin (a valid <c>name_t</c>), and no '/': names are file names here.</summary>
    private static bool IsValidName(string serviceName)
    {
        Span<byte> nameT = stackalloc byte[BootstrapName.BufferSize];
        return BootstrapName.TryEncode(serviceName, nameT) && !serviceName.Contains('/', StringComparison.Ordinal);
    }

    /// <summary>
    /// Opens and locks the lock file of a name and writes the name into it (what <c>machctl list</c> shows for a hashed
    /// file name). A lock file removed (by <see cref="RemoveIfStale"/>) between the open and the lock is opened again, so two
    /// registrants never hold locks on two files of one name. Null with the status when the name is taken or the file cannot be made.
    /// </summary>
    private static BootstrapStatus LockName(string lockPath, string serviceName, BootstrapDomain domain, out LinuxFd? lockFile)
    {
        lockFile = null;
        for (int attempt = 0; attempt < 8; attempt++)
        {
            int lockFd = Libc.open(lockPath, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, domain.LockFileMode);
            if (lockFd < 0)
            {
                return BootstrapStatus.NotPrivileged;
            }

            var locked = new LinuxFd(lockFd);
            if (Libc.flock(lockFd, Libc.LOCK_EX | Libc.LOCK_NB) != 0)
            {
                locked.Dispose();
                return BootstrapStatus.ServiceActive;
            }

            if (FileIdentity(lockPath) != DescriptorIdentity(lockFd))
            {
                locked.Dispose();
                continue;
            }

            byte[] name = Encoding.UTF8.GetBytes(serviceName);
            fixed (byte* bytes = name)
            {
                _ = Libc.ftruncate(lockFd, 0);
                _ = Libc.pwrite(lockFd, bytes, (nuint)name.Length, 0);
            }

            lockFile = locked;
            return BootstrapStatus.Success;
        }

        return BootstrapStatus.ServiceActive;
    }

    /// <summary>
    /// The service name a lock file holds, or null when it holds none (written by a version that did not) or cannot be
    /// read. Read with <c>pread</c>: .NET's file APIs take a shared flock, which the registrant's lock refuses.
    /// </summary>
    public static string? NameIn(string lockPath)
    {
        int fd = Libc.open(lockPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }

        using var file = new LinuxFd(fd);
        Span<byte> name = stackalloc byte[BootstrapName.BufferSize];
        fixed (byte* bytes = name)
        {
            nint length = Libc.pread(fd, bytes, (nuint)name.Length, 0);
            return length is > 0 and < BootstrapName.BufferSize ? Encoding.UTF8.GetString(name[..(int)length]) : null;
        }
    }

    /// <summary>A name's listener; in the system domain its socket file is opened to all (connecting needs write permission on it).</summary>
    private static LinuxFd? Listen(string socketPath, BootstrapDomain domain)
    {
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
        if (fd < 0)
        {
            return null;
        }

        var listener = LinuxFd.PeerWritable(fd); // look-ups not yet accepted hold what they queued
        if (SocketPath.Bind(fd, socketPath) != 0
            || (domain.IsSystem && Libc.chmod(socketPath, 0x1B6 /* 0666 */) != 0)
            || Libc.listen(fd, 128) != 0)
        {
            listener.Dispose();
            return null;
        }

        return listener;
    }

    /// <summary>
    /// Whether a process listens on the socket file <paramref name="socketPath"/> (a full backlog counts: it listens).
    /// Only a socket file of its own counts: a link there, symbolic or hard (to another service's socket, say), was made
    /// by hand, not by a registrant, and would keep the name from every server for as long as what it leads to lives.
    /// </summary>
    private static bool IsListenedOn(string socketPath)
    {
        Libc.Statx stat;
        if (Libc.statx(Libc.AT_FDCWD, socketPath, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &stat) != 0
            || (stat.Mode & Libc.S_IFMT) != Libc.S_IFSOCK
            || stat.LinkCount != 1)
        {
            return false;
        }

        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
        if (fd < 0)
        {
            return true; // cannot tell: a live name must not be taken
        }

        using var probe = LinuxFd.PeerWritable(fd); // the registrant answers with a send right, as to a look-up
        int error = SocketPath.Connect(fd, socketPath);
        return error is 0 or Libc.EAGAIN;
    }

    private static PortIdentity DescriptorIdentity(int fd)
    {
        Libc.Statx stat;
        return Libc.statx(fd, string.Empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &stat) == 0 ? PortIdentity.Of(stat) : default;
    }

    /// <summary>The (device, inode) of the file <paramref name="path"/> names itself; none when there is none.</summary>
    private static PortIdentity FileIdentity(string path)
    {
        Libc.Statx stat;
        return Libc.statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &stat) == 0
            ? PortIdentity.Of(stat)
            : default;
    }

    /// <summary>A directory (a link to one is fine: the home directory may be one) owned by <paramref name="uid"/>.</summary>
    private static bool IsOwnDirectory(string path, uint uid)
    {
        Libc.Statx stat;
        return Libc.statx(Libc.AT_FDCWD, path, 0, Libc.STATX_BASIC_STATS, &stat) == 0
            && (stat.Mode & Libc.S_IFMT) == Libc.S_IFDIR
            && stat.Uid == uid;
    }

    /// <summary>The service name itself when it is a plain, short file name; otherwise a digest of it.</summary>
    internal static string FileNameFor(string directory, string serviceName)
    {
        bool plain = serviceName.Length > 0 && serviceName[0] != '.'
            && serviceName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
        if (plain && Encoding.UTF8.GetByteCount(directory) + 1 + serviceName.Length + ".lock".Length <= SocketPath.MaxBytes)
        {
            return serviceName;
        }

        return "h." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(serviceName)))[..40];
    }
}
