using System.Runtime.InteropServices;

namespace MachTransport.Server;

/// <summary>This process's own user, for the default peer policy.</summary>
internal static partial class ProcessIdentity
{
    public static uint EffectiveUid { get; } = GetEffectiveUid();

    // geteuid(2) lives in libc on Linux and in libSystem on macOS; "libc" resolves on both.
    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUid();
}
