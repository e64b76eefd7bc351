using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace MachTransport.Mach.Darwin;

/// <summary>
/// The libSystem entry points the Darwin backend calls, declared with their C signatures
/// (docs/mach-abi.md §8, §9): port names and <c>ipc_space_t</c>/<c>vm_map_t</c> are 4-byte unsigned,
/// <c>kern_return_t</c>/<c>mach_msg_return_t</c> are <c>int</c>. The functions live in
/// libsystem_kernel and libxpc, which libSystem re-exports (§10).
/// </summary>
[SupportedOSPlatform("macos")]
internal static unsafe partial class LibSystem
{
    /// <summary>libSystem's install name; it lives in the dyld shared cache, so never probe it on disk (§10).</summary>
    public const string Path = "/usr/lib/libSystem.B.dylib";

    [LibraryImport(Path, EntryPoint = "mach_msg")]
    public static partial int MachMsg(byte* msg, int option, uint sendSize, uint receiveSize, uint receiveName, uint timeout, uint notify);

    [LibraryImport(Path, EntryPoint = "mach_port_allocate")]
    public static partial int MachPortAllocate(uint task, uint right, out uint name);

    [LibraryImport(Path, EntryPoint = "mach_port_insert_right")]
    public static partial int MachPortInsertRight(uint task, uint name, uint poly, uint polyPoly);

    [LibraryImport(Path, EntryPoint = "mach_port_extract_right")]
    public static partial int MachPortExtractRight(uint task, uint name, uint msgtName, out uint poly, out uint polyPoly);

    [LibraryImport(Path, EntryPoint = "mach_port_deallocate")]
    public static partial int MachPortDeallocate(uint task, uint name);

    [LibraryImport(Path, EntryPoint = "mach_port_mod_refs")]
    public static partial int MachPortModRefs(uint task, uint name, uint right, int delta);

    [LibraryImport(Path, EntryPoint = "mach_port_get_refs")]
    public static partial int MachPortGetRefs(uint task, uint name, uint right, out uint refs);

    [LibraryImport(Path, EntryPoint = "mach_port_type")]
    public static partial int MachPortType(uint task, uint name, out uint type);

    [LibraryImport(Path, EntryPoint = "mach_port_insert_member")]
    public static partial int MachPortInsertMember(uint task, uint name, uint portSet);

    [LibraryImport(Path, EntryPoint = "mach_port_extract_member")]
    public static partial int MachPortExtractMember(uint task, uint name, uint portSet);

    [LibraryImport(Path, EntryPoint = "mach_port_set_attributes")]
    public static partial int MachPortSetAttributes(uint task, uint name, int flavor, int* portInfo, uint portInfoCount);

    [LibraryImport(Path, EntryPoint = "mach_port_get_attributes")]
    public static partial int MachPortGetAttributes(uint task, uint name, int flavor, int* portInfoOut, ref uint portInfoOutCount);

    [LibraryImport(Path, EntryPoint = "mach_port_request_notification")]
    public static partial int MachPortRequestNotification(uint task, uint name, int msgId, uint sync, uint notify, uint notifyPoly, out uint previous);

    [LibraryImport(Path, EntryPoint = "mach_vm_allocate")]
    public static partial int MachVmAllocate(uint target, ref ulong address, ulong size, int flags);

    [LibraryImport(Path, EntryPoint = "mach_vm_deallocate")]
    public static partial int MachVmDeallocate(uint target, ulong address, ulong size);

    /// <summary><paramref name="serviceName"/> points at a NUL-terminated <c>name_t</c> (<c>char[128]</c>).</summary>
    [LibraryImport(Path, EntryPoint = "bootstrap_check_in")]
    public static partial int BootstrapCheckIn(uint bootstrapPort, byte* serviceName, out uint servicePort);

    /// <summary><paramref name="serviceName"/> points at a NUL-terminated <c>name_t</c> (<c>char[128]</c>).</summary>
    [LibraryImport(Path, EntryPoint = "bootstrap_look_up")]
    public static partial int BootstrapLookUp(uint bootstrapPort, byte* serviceName, out uint servicePort);
}
