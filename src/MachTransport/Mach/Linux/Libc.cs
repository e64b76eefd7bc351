using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The libc calls the emulation needs. Constants are the Linux values shared by x86_64 and arm64
/// (include/uapi/asm-generic/socket.h, errno-base.h, fcntl.h, mman-common.h, eventpoll.h, poll.h, memfd.h).
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    public const int AF_UNIX = 1;
    public const int AF_NETLINK = 16;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int SOL_SOCKET = 1;
    public const int SO_TYPE = 3;
    public const int SO_SNDBUF = 7;
    public const int SO_PASSCRED = 16;
    public const int SO_PEERCRED = 17;
    public const int SO_SNDTIMEO = 21;
    public const int SO_ACCEPTCONN = 30;
    public const int SO_DOMAIN = 39;
    public const int SO_COOKIE = 57;
    public const int SCM_RIGHTS = 1;
    public const int SCM_CREDENTIALS = 2;
    /// <summary>Most fds one SCM_RIGHTS message may carry (<c>SCM_MAX_FD</c>, include/net/scm.h).</summary>
    public const int ScmMaxFd = 253;

    public const int MSG_PEEK = 0x2;
    public const int MSG_CTRUNC = 0x8;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EPERM = 1;
    public const int ENOSYS = 38;
    public const int EPIPE = 32;
    public const int EMSGSIZE = 90;
    public const int ECONNRESET = 104;
    public const int ENOTCONN = 107;
    public const int ECONNREFUSED = 111;
    public const int EADDRINUSE = 98;
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int ENFILE = 23;
    public const int EMFILE = 24;

    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLRDHUP = 0x2000;

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x1;
    public const uint EPOLLOUT = 0x4;
    public const uint EPOLLHUP = 0x10;

    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    public const uint MFD_CLOEXEC = 1;
    public const uint MFD_ALLOW_SEALING = 2;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int O_NONBLOCK = 0x800;
    public const int RLIMIT_NOFILE = 7;
    public const int F_ADD_SEALS = 1033;
    public const int F_GET_SEALS = 1034;
    public const int F_SEAL_SHRINK = 0x2;
    public const int F_SEAL_GROW = 0x4;
    public const int F_SEAL_WRITE = 0x8;
    public const int F_SEAL_SEAL = 0x1;

    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int MAP_SHARED = 1;
    public const int MAP_PRIVATE = 2;
    public const int MAP_FIXED = 0x10;
    public const int MAP_ANONYMOUS = 0x20;

    public const int O_RDONLY = 0;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;
    public const int O_DIRECTORY = 0x10000;
    public const int S_IFMT = 0xF000;
    public const int S_IFDIR = 0x4000;
    public const int S_IFSOCK = 0xC000;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    public const int AT_FDCWD = -100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_BASIC_STATS = 0x7ff;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> on LP64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct cmsghdr</c> header on LP64; data follows at <see cref="HeaderSize"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;

        public const int HeaderSize = 16;

        /// <summary><c>CMSG_ALIGN</c>: control messages are aligned to <c>sizeof(size_t)</c>.</summary>
        public static int Align(int length) => (length + 7) & ~7;

        /// <summary><c>CMSG_SPACE(dataLength)</c>.</summary>
        public static int Space(int dataLength) => HeaderSize + Align(dataLength);
    }

    /// <summary><c>struct ucred</c> carried by SCM_CREDENTIALS.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    /// <summary><c>struct rlimit</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Soft;
        public ulong Hard;
    }

    /// <summary><c>struct timeval</c> (SO_SNDTIMEO).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    /// <summary><c>struct sockaddr_un</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrUn
    {
        public ushort Family;
        public fixed byte Path[108];
    }

    /// <summary>The leading fields of <c>struct statx</c> (fixed layout on every architecture, include/uapi/linux/stat.h).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct Statx
    {
        [FieldOffset(16)] public uint LinkCount;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(136)] public uint DeviceMajor;
        [FieldOffset(140)] public uint DeviceMinor;
    }

    [LibraryImport(Library, SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint send(int fd, void* buffer, nuint length, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint recv(int fd, void* buffer, nuint length, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int dup(int fd);

    public const int SHUT_RD = 0;
    public const int SHUT_RDWR = 2;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int epoll_wait(int epfd, void* events, int maxEvents, int timeoutMilliseconds);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int eventfd(uint initialValue, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint pread(int fd, void* buffer, nuint count, long offset);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint pwrite(int fd, void* buffer, nuint count, long offset);

    [LibraryImport(Library, SetLastError = true)]
    public static partial nint process_vm_readv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

    [LibraryImport(Library, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int fchmod(int fd, uint mode);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(Library, SetLastError = true)]
    public static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int munmap(void* address, nuint length);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flock(int fd, int operation);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlink(string path);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdir(string path, int mode);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chmod(string path, int mode);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rmdir(string path);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statx(int dirfd, string path, int flags, uint mask, Statx* buffer);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int bind(int fd, SockAddrUn* address, uint length);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int accept4(int fd, void* address, void* length, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int connect(int fd, SockAddrUn* address, uint length);

    [LibraryImport(Library)]
    public static partial uint geteuid();

    [LibraryImport(Library)]
    public static partial int getpid();

    [LibraryImport(Library, SetLastError = true)]
    public static partial int getrlimit(int resource, RLimit* limit);

    public static int LastError => Marshal.GetLastPInvokeError();
}
