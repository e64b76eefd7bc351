using System.Runtime.InteropServices;

namespace MachTransport.Testing;

/// <summary>This process's effective user and group ids, straight from libc (what the kernel reports to a peer).</summary>
public static partial class ProcessUser
{
    public static uint Uid => GetEuid();

    public static uint Gid => GetEgid();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    private static partial uint GetEgid();
}
