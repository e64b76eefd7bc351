using System.Runtime.InteropServices;

namespace MachTransport.Mach.Abi;

/// <summary>
/// <c>mach_msg_ool_descriptor_t</c> as laid out for 64-bit tasks (<c>mach_msg_ool_descriptor64_t</c>):
/// 16 bytes, the 8-byte address only 4-aligned because of <c>pack(4)</c>, <c>size</c> last (osfmk/mach/message.h).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct MachMsgOolDescriptor
{
    public ulong Address;
    public byte Deallocate;
    public MachMsgCopyOptions Copy;
    public byte Pad1;
    public MachMsgDescriptorType Type;
    public uint Size;

    public static MachMsgOolDescriptor Create(ulong address, uint size, bool deallocate, MachMsgCopyOptions copy) => new()
    {
        Address = address,
        Size = size,
        Deallocate = deallocate ? (byte)1 : (byte)0,
        Copy = copy,
        Type = MachMsgDescriptorType.Ool,
    };
}
