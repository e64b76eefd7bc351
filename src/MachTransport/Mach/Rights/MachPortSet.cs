using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Rights;

/// <summary>A port set: one receive point for the messages of all its member ports.</summary>
internal sealed class MachPortSet : MachRight
{
    public MachPortSet(IMachKernel kernel, uint name) : base(kernel, name) { }

    public static MachPortSet Allocate(IMachKernel kernel)
    {
        MachException.ThrowIfFailed(kernel.AllocatePort(MachPortRight.PortSet, out uint name), "mach_port_allocate(PORT_SET)");
        return new MachPortSet(kernel, name);
    }

    public void Add(MachReceiveRight member)
        => MachException.ThrowIfFailed(Kernel.InsertMember(member.Name, Name), "mach_port_insert_member");

    public void Remove(MachReceiveRight member)
        => MachException.ThrowIfFailed(Kernel.ExtractMember(member.Name, Name), "mach_port_extract_member");

    private protected override KernReturn Release(uint name) => Kernel.ModRefs(name, MachPortRight.PortSet, -1);
}
