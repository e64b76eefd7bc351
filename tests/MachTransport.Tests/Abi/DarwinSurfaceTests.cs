using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using MachTransport.Mach;
using MachTransport.Mach.Darwin;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §8 (C signatures of mach_msg, mach_port_*, mach_vm_*), §9 (bootstrap_*), §10 (every symbol
// resolves through /usr/lib/libSystem.B.dylib), §1 (mach_port_name_t/ipc_space_t/vm_map_t are 4-byte unsigned,
// kern_return_t int, mach_vm_address_t 8 bytes). The Darwin backend cannot run on Linux, so its P/Invoke
// surface is checked by reflection: every import the backend needs, with the C parameter types, and no other.
[Trait("Category", "Abi")]
public unsafe class DarwinSurfaceTests
{
    private static readonly Type U32 = typeof(uint);
    private static readonly Type I32 = typeof(int);
    private static readonly Type U64 = typeof(ulong);
    private static readonly Type OutU32 = typeof(uint).MakeByRefType();
    private static readonly Type RefU64 = typeof(ulong).MakeByRefType();
    private static readonly Type RefU32 = typeof(uint).MakeByRefType();

    // entry point -> parameter types from the C signature (pointer results as out/ref, buffers as pointers).
    private static readonly Dictionary<string, (Type Type, ParameterKind Kind)[]> Expected = new()
    {
        // (msg*, option, send_size, rcv_size, rcv_name, timeout, notify)
        ["mach_msg"] = [(typeof(byte*), ParameterKind.In), (I32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In)],
        // (task, right, *name)
        ["mach_port_allocate"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (OutU32, ParameterKind.Out)],
        // (task, name, poly, polyPoly)
        ["mach_port_insert_right"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In)],
        // (task, name, msgt_name, *poly, *polyPoly)
        ["mach_port_extract_right"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (OutU32, ParameterKind.Out), (OutU32, ParameterKind.Out)],
        // (task, name)
        ["mach_port_deallocate"] = [(U32, ParameterKind.In), (U32, ParameterKind.In)],
        // (task, name, right, delta: mach_port_delta_t is signed)
        ["mach_port_mod_refs"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (I32, ParameterKind.In)],
        // (task, name, right, *refs)
        ["mach_port_get_refs"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (OutU32, ParameterKind.Out)],
        // (task, name, *ptype)
        ["mach_port_type"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (OutU32, ParameterKind.Out)],
        // (task, name, pset)
        ["mach_port_insert_member"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In)],
        ["mach_port_extract_member"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In)],
        // (task, name, flavor: int, port_info: integer_t*, count)
        ["mach_port_set_attributes"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (I32, ParameterKind.In), (typeof(int*), ParameterKind.In), (U32, ParameterKind.In)],
        // (task, name, flavor, port_info_out: integer_t*, *count in/out)
        ["mach_port_get_attributes"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (I32, ParameterKind.In), (typeof(int*), ParameterKind.In), (RefU32, ParameterKind.Ref)],
        // (task, name, msgid: mach_msg_id_t signed, sync, notify, notifyPoly, *previous)
        ["mach_port_request_notification"] = [(U32, ParameterKind.In), (U32, ParameterKind.In), (I32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (U32, ParameterKind.In), (OutU32, ParameterKind.Out)],
        // (target, *address in/out, size, flags: int)
        ["mach_vm_allocate"] = [(U32, ParameterKind.In), (RefU64, ParameterKind.Ref), (U64, ParameterKind.In), (I32, ParameterKind.In)],
        // (target, address, size)
        ["mach_vm_deallocate"] = [(U32, ParameterKind.In), (U64, ParameterKind.In), (U64, ParameterKind.In)],
        // (bp, const name_t, *sp)
        ["bootstrap_check_in"] = [(U32, ParameterKind.In), (typeof(byte*), ParameterKind.In), (OutU32, ParameterKind.Out)],
        ["bootstrap_look_up"] = [(U32, ParameterKind.In), (typeof(byte*), ParameterKind.In), (OutU32, ParameterKind.Out)],
    };

    public enum ParameterKind
    {
        In,
        Out,
        Ref,
    }

    private static Dictionary<string, MethodInfo> Imports()
        => typeof(LibSystem)
            .GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() is not null)
            .ToDictionary(m => m.GetCustomAttribute<LibraryImportAttribute>()!.EntryPoint ?? m.Name);

    [Fact]
    public void LibSystemImportsExactlyTheExpectedEntryPoints()
        => Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal), Imports().Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void EveryImportGoesToTheLibSystemInstallName()
    {
        Assert.All(Imports().Values, m => Assert.Equal("/usr/lib/libSystem.B.dylib", m.GetCustomAttribute<LibraryImportAttribute>()!.LibraryName));
    }

    [Fact]
    public void EveryImportReturnsAnInt()
        => Assert.All(Imports().Values, m => Assert.Equal(typeof(int), m.ReturnType));

    [Fact]
    public void EveryImportHasTheParameterTypesOfItsCSignature()
    {
        foreach ((string entryPoint, MethodInfo method) in Imports())
        {
            var actual = method.GetParameters().Select(p => (p.ParameterType, p.IsOut ? ParameterKind.Out : p.ParameterType.IsByRef ? ParameterKind.Ref : ParameterKind.In)).ToArray();
            Assert.True(Expected[entryPoint].SequenceEqual(actual), $"{entryPoint}: expected ({string.Join(", ", Expected[entryPoint])}) but was ({string.Join(", ", actual)})");
        }
    }

    [Fact]
    public void NoImportOfTheRefCountingTaskSelfFunctionOrRawTraps()
    {
        // §8: mach_task_self() adds a send-right reference per call (read the mach_task_self_ global instead),
        // and the legacy mach_msg traps are refused for 64-bit processes (call mach_msg).
        Assert.DoesNotContain("mach_task_self", Imports().Keys);
        Assert.DoesNotContain(Imports().Keys, name => name.EndsWith("_trap", StringComparison.Ordinal));
    }

    [Fact]
    public void DarwinTypesAreInternalSealedAndMarkedMacOsOnly()
    {
        Assert.True(typeof(IMachKernel).IsAssignableFrom(typeof(DarwinKernel)));
        Assert.True(typeof(DarwinKernel).IsSealed);
        Assert.False(typeof(DarwinKernel).IsPublic);
        Assert.False(typeof(LibSystem).IsPublic);
        Assert.Equal("macos", typeof(DarwinKernel).GetCustomAttribute<SupportedOSPlatformAttribute>()?.PlatformName);
        Assert.Equal("macos", typeof(LibSystem).GetCustomAttribute<SupportedOSPlatformAttribute>()?.PlatformName);
    }
}
