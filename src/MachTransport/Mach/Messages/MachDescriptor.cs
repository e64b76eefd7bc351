using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Messages;

/// <summary>One descriptor read from a message: a port (name + disposition) or an out-of-line region (address + size).</summary>
internal readonly record struct MachDescriptor(
    MachMsgDescriptorType Type,
    uint Name,
    MachMsgTypeName Disposition,
    ulong Address,
    uint Size,
    bool Deallocate,
    MachMsgCopyOptions Copy)
{
    /// <summary>Byte size of a descriptor of <paramref name="type"/> in a 64-bit task (port 12, the others 16).</summary>
    public static int SizeOf(MachMsgDescriptorType type) => type == MachMsgDescriptorType.Port ? 12 : 16;
}
