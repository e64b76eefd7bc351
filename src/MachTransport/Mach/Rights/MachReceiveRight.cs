using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Rights;

/// <summary>A receive right: the one queue of a port. Disposing destroys the port; its senders see a dead name.</summary>
internal sealed class MachReceiveRight : MachRight
{
    public MachReceiveRight(IMachKernel kernel, uint name) : base(kernel, name) { }

    /// <summary>Allocates a new port and returns its receive right.</summary>
    public static MachReceiveRight Allocate(IMachKernel kernel)
    {
        MachException.ThrowIfFailed(kernel.AllocatePort(MachPortRight.Receive, out uint name), "mach_port_allocate(RECEIVE)");
        return new MachReceiveRight(kernel, name);
    }

    /// <summary>Makes a new send right to this port (<c>mach_port_insert_right(MAKE_SEND)</c>; same name, one more uref).</summary>
    public MachSendRight MakeSend()
    {
        MachException.ThrowIfFailed(Kernel.InsertRight(Name, Name, MachMsgTypeName.MakeSend), "mach_port_insert_right(MAKE_SEND)");
        return new MachSendRight(Kernel, Name);
    }

    /// <summary>Makes a send-once right to this port (<c>mach_port_extract_right(MAKE_SEND_ONCE)</c>).</summary>
    public MachSendOnceRight MakeSendOnce()
    {
        MachException.ThrowIfFailed(
            Kernel.ExtractRight(Name, MachMsgTypeName.MakeSendOnce, out uint sendOnce, out _),
            "mach_port_extract_right(MAKE_SEND_ONCE)");
        return new MachSendOnceRight(Kernel, sendOnce);
    }

    /// <summary>Sets the queue limit (1..1024; <c>MACH_PORT_LIMITS_INFO</c>).</summary>
    public void SetQueueLimit(uint queueLimit)
        => MachException.ThrowIfFailed(Kernel.SetQueueLimit(Name, queueLimit), "mach_port_set_attributes(MACH_PORT_LIMITS_INFO)");

    private protected override KernReturn Release(uint name) => Kernel.ModRefs(name, MachPortRight.Receive, -1);
}
