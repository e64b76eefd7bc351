// statx(2) for what .NET does not tell: a file's type (is it a socket?) and its device and inode (to find its flock holder).
using System.Runtime.InteropServices;

namespace MachTransport.Tools;

/// <summary>The few fields of <c>struct statx</c> machctl needs (Linux only).</summary>
internal readonly partial struct UnixFileStatus
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int FileTypeMask = 0xF000, SocketType = 0xC000;

    private UnixFileStatus(ushort mode, ulong inode, uint deviceMajor, uint deviceMinor)
    {
        Mode = mode;
        Inode = inode;
        DeviceMajor = deviceMajor;
        DeviceMinor = deviceMinor;
    }

    public ushort Mode { get; }

    public ulong Inode { get; }

    public uint DeviceMajor { get; }

    public uint DeviceMinor { get; }

    public bool IsSocket => (Mode & FileTypeMask) == SocketType;

    /// <summary>The status of <paramref name="path"/> (not following a final symlink); false when it cannot be read.</summary>
    public static unsafe bool TryGet(string path, out UnixFileStatus status)
    {
        status = default;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Statx raw;
        const int AtSymlinkNoFollow = 0x100;
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, &raw) != 0)
        {
            return false;
        }

        status = new UnixFileStatus(raw.Mode, raw.Inode, raw.DeviceMajor, raw.DeviceMinor);
        return true;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int directoryFd, string path, int flags, uint mask, Statx* result);

    /// <summary>Offsets from linux/stat.h (struct statx is 256 bytes on every architecture).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Statx
    {
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(136)] public uint DeviceMajor;
        [FieldOffset(140)] public uint DeviceMinor;
    }
}
