using MachTransport.Channel;
using MachTransport.Mach;
using MachTransport.Mach.Abi;

namespace MachTransport.Tests.Protocol;

/// <summary>Answers a mach_msg call in place of the kernel (its result), or lets it through (null).</summary>
internal unsafe delegate MachMsgReturn? MachMsgHook(byte* message, MachMsgOption options);

/// <summary>
/// The process's kernel with a hook on mach_msg, for what a real kernel does only under conditions a unit test should
/// not create for the whole user: e.g. a send short of resources (MACH_SEND_NO_BUFFER, on Linux past the user's
/// descriptors in flight), or a receive thread held up.
/// </summary>
internal sealed unsafe class HookedKernel(IMachKernel inner) : IMachKernel
{
    public volatile MachMsgHook? Hook;

    /// <summary>The next blocking receive (a receive loop's, on its port set) returns <paramref name="result"/> at once.</summary>
    public void FailNextReceive(MachMsgReturn result)
    {
        int armed = 1;
        Hook = (_, options) => (options & MachMsgOption.ReceiveMsg) != 0 && (options & MachMsgOption.ReceiveTimeout) == 0 && Interlocked.Exchange(ref armed, 0) == 1
            ? result
            : null;
    }

    /// <summary>Dead-name notification requests fail (KERN_INVALID_ARGUMENT) while set.</summary>
    public volatile bool RefuseDeadNameWatches;

    /// <summary>Ports fail to join a port set (KERN_RESOURCE_SHORTAGE, as the Linux emulation's EPOLL_CTL_ADD past the user's epoll watches) while set.</summary>
    public volatile bool RefusePortSetMembers;

    /// <summary>A hook that fails every DATA send with MACH_SEND_NO_BUFFER.</summary>
    public static MachMsgReturn? DataShortOfBuffers(byte* message, MachMsgOption options)
        => (options & MachMsgOption.SendMsg) != 0 && ((MachMsgHeader*)message)->Id == MachProtocol.Data ? MachMsgReturn.SendNoBuffer : null;

    public string BootstrapDenialReason => inner.BootstrapDenialReason;

    public string ResourceShortageReason => inner.ResourceShortageReason;

    public MachMsgReturn MachMsg(byte* message, MachMsgOption options, uint sendSize, uint receiveLimit, uint receiveName, uint timeoutMilliseconds)
        => Hook?.Invoke(message, options) ?? inner.MachMsg(message, options, sendSize, receiveLimit, receiveName, timeoutMilliseconds);

    public KernReturn AllocatePort(MachPortRight right, out uint name) => inner.AllocatePort(right, out name);

    public KernReturn InsertRight(uint name, uint poly, MachMsgTypeName polyPoly) => inner.InsertRight(name, poly, polyPoly);

    public KernReturn ExtractRight(uint name, MachMsgTypeName msgtName, out uint poly, out MachMsgTypeName polyPoly)
        => inner.ExtractRight(name, msgtName, out poly, out polyPoly);

    public KernReturn Deallocate(uint name) => inner.Deallocate(name);

    public KernReturn ModRefs(uint name, MachPortRight right, int delta) => inner.ModRefs(name, right, delta);

    public KernReturn InsertMember(uint name, uint portSet) => RefusePortSetMembers ? KernReturn.ResourceShortage : inner.InsertMember(name, portSet);

    public KernReturn ExtractMember(uint name, uint portSet) => inner.ExtractMember(name, portSet);

    public KernReturn SetQueueLimit(uint name, uint queueLimit) => inner.SetQueueLimit(name, queueLimit);

    public KernReturn RequestNotification(uint name, int msgId, uint sync, uint notify, MachMsgTypeName notifyPoly, out uint previous)
    {
        if (RefuseDeadNameWatches && msgId == MachNotifyId.DeadName)
        {
            previous = MachPort.Null;
            return KernReturn.InvalidArgument;
        }

        return inner.RequestNotification(name, msgId, sync, notify, notifyPoly, out previous);
    }

    public KernReturn VmAllocate(ulong size, out ulong address) => inner.VmAllocate(size, out address);

    public KernReturn VmDeallocate(ulong address, ulong size) => inner.VmDeallocate(address, size);

    public BootstrapStatus BootstrapCheckIn(string serviceName, bool systemDomain, out uint receiveRight) => inner.BootstrapCheckIn(serviceName, systemDomain, out receiveRight);

    public BootstrapStatus BootstrapLookUp(string serviceName, out uint sendRight) => inner.BootstrapLookUp(serviceName, out sendRight);

    public bool BootstrapNameHeld(uint receiveRight) => inner.BootstrapNameHeld(receiveRight);
}
