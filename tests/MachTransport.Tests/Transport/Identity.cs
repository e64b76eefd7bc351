using System.Runtime.InteropServices;

namespace MachTransport.Tests.Transport;

/// <summary>This test process's effective user and group, straight from libc.</summary>
internal static partial class Identity
{
    public static uint Uid => GetEuid();

    public static uint Gid => GetEgid();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    private static partial uint GetEgid();
}
