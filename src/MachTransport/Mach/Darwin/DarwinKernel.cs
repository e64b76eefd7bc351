using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Darwin;

/// <summary>
/// The real Mach kernel: each member forwards to one libSystem call (docs/mach-abi.md §8, §9).
/// Nothing is emulated or re-checked here; the kernel's own status is returned unchanged.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe class DarwinKernel : IMachKernel
{
    // The task's own port name, read from the mach_task_self_ global once: the mach_task_self()
    // function would add a user reference per call, and the name never changes in this process (§8, §11.12).
    private readonly uint _task;

    // Address of the bootstrap_port global; read at each call because a process may replace it (task_set_bootstrap_port).
    private readonly uint* _bootstrapPort;

    public DarwinKernel()
    {
        // Data symbols cannot be imported; dlsym through the libSystem handle finds the re-exported ones (§10).
        nint libSystem = NativeLibrary.Load(LibSystem.Path);
        _task = *(uint*)NativeLibrary.GetExport(libSystem, "mach_task_self_");
        _bootstrapPort = (uint*)NativeLibrary.GetExport(libSystem, "bootstrap_port");
    }

    public KernReturn AllocatePort(MachPortRight right, out uint name)
        => (KernReturn)LibSystem.MachPortAllocate(_task, (uint)right, out name);

    public KernReturn InsertRight(uint name, uint poly, MachMsgTypeName polyPoly)
        => (KernReturn)LibSystem.MachPortInsertRight(_task, name, poly, (uint)polyPoly);

    public KernReturn ExtractRight(uint name, MachMsgTypeName msgtName, out uint poly, out MachMsgTypeName polyPoly)
    {
        var result = (KernReturn)LibSystem.MachPortExtractRight(_task, name, (uint)msgtName, out poly, out uint type);
        polyPoly = (MachMsgTypeName)type;
        return result;
    }

    public KernReturn Deallocate(uint name)
        => (KernReturn)LibSystem.MachPortDeallocate(_task, name);

    public KernReturn ModRefs(uint name, MachPortRight right, int delta)
        => (KernReturn)LibSystem.MachPortModRefs(_task, name, (uint)right, delta);

    public KernReturn InsertMember(uint name, uint portSet)
        => (KernReturn)LibSystem.MachPortInsertMember(_task, name, portSet);

    public KernReturn ExtractMember(uint name, uint portSet)
        => (KernReturn)LibSystem.MachPortExtractMember(_task, name, portSet);

    public KernReturn SetQueueLimit(uint name, uint queueLimit)
    {
        // mach_port_limits_t is a single natural_t (§8.2).
        uint limits = queueLimit;
        return (KernReturn)LibSystem.MachPortSetAttributes(_task, name, MachPort.LimitsInfo, (int*)&limits, MachPort.LimitsInfoCount);
    }

    public KernReturn RequestNotification(uint name, int msgId, uint sync, uint notify, MachMsgTypeName notifyPoly, out uint previous)
        => (KernReturn)LibSystem.MachPortRequestNotification(_task, name, msgId, sync, notify, (uint)notifyPoly, out previous);

    // notify is MACH_PORT_NULL: current libsyscall passes it on as the message priority (§8).
    public MachMsgReturn MachMsg(byte* message, MachMsgOption options, uint sendSize, uint receiveLimit, uint receiveName, uint timeoutMilliseconds)
        => (MachMsgReturn)LibSystem.MachMsg(message, (int)options, sendSize, receiveLimit, receiveName, timeoutMilliseconds, MachPort.Null);

    public KernReturn VmAllocate(ulong size, out ulong address)
    {
        ulong allocated = 0;
        var result = (KernReturn)LibSystem.MachVmAllocate(_task, ref allocated, size, VmFlags.Anywhere);
        address = allocated;
        return result;
    }

    public KernReturn VmDeallocate(ulong address, ulong size)
        => (KernReturn)LibSystem.MachVmDeallocate(_task, address, size);

    // The domain is the bootstrap port's, which launchd chose: a LaunchDaemon's is the system domain.
    public BootstrapStatus BootstrapCheckIn(string serviceName, bool systemDomain, out uint receiveRight)
        => Bootstrap(serviceName, &LibSystem.BootstrapCheckIn, out receiveRight);

    public BootstrapStatus BootstrapLookUp(string serviceName, out uint sendRight)
        => Bootstrap(serviceName, &LibSystem.BootstrapLookUp, out sendRight);

    public string BootstrapDenialReason => "another user's name, or a sandbox rule.";

    public bool BootstrapNameHeld(uint receiveRight) => true; // launchd's names cannot be taken from a live registrant

    public string ResourceShortageReason => "the kernel is short of memory for messages, in this process's space or the service's.";

    // Queries only tests ask: not on IMachKernel; tests reach them through their KernelQueries helper.

    public KernReturn GetRefs(uint name, MachPortRight right, out uint refs)
        => (KernReturn)LibSystem.MachPortGetRefs(_task, name, (uint)right, out refs);

    public KernReturn GetPortType(uint name, out MachPortType type)
    {
        var result = (KernReturn)LibSystem.MachPortType(_task, name, out uint bits);
        type = (MachPortType)bits;
        return result;
    }

    public KernReturn GetQueueLimit(uint name, out uint queueLimit)
    {
        uint limits = 0;
        uint count = MachPort.LimitsInfoCount;
        var result = (KernReturn)LibSystem.MachPortGetAttributes(_task, name, MachPort.LimitsInfo, (int*)&limits, ref count);
        queueLimit = limits;
        return result;
    }

    /// <summary>Both bootstrap calls take the bootstrap port and a <c>name_t</c>, and give back one right.</summary>
    private BootstrapStatus Bootstrap(string serviceName, delegate*<uint, byte*, out uint, int> call, out uint right)
    {
        byte* nameT = stackalloc byte[BootstrapName.BufferSize];
        if (!BootstrapName.TryEncode(serviceName, new Span<byte>(nameT, BootstrapName.BufferSize)))
        {
            right = MachPort.Null;
            return BootstrapName.InvalidName;
        }

        return (BootstrapStatus)call(*_bootstrapPort, nameT, out right);
    }
}
