using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Rights;

/// <summary>One user reference of a send right.</summary>
internal sealed class MachSendRight : MachRight
{
    public MachSendRight(IMachKernel kernel, uint name) : base(kernel, name) { }

    /// <summary>Another user reference to the same port under the same name (what <c>COPY_SEND</c> into this task yields).</summary>
    public MachSendRight Copy()
    {
        MachException.ThrowIfFailed(Kernel.ModRefs(Name, MachPortRight.Send, 1), "mach_port_mod_refs(SEND, +1)");
        return new MachSendRight(Kernel, Name);
    }

    private protected override KernReturn Release(uint name) => Kernel.Deallocate(name);
}
