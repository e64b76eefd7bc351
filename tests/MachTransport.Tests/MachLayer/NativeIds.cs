using System.Runtime.InteropServices;

namespace MachTransport.Tests.MachLayer;

/// <summary>This process's ids, straight from libc.</summary>
internal static partial class NativeIds
{
    [LibraryImport("libc")]
    public static partial uint geteuid();
}
