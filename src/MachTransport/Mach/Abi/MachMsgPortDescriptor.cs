using System.Runtime.InteropServices;

namespace MachTransport.Mach.Abi;

/// <summary>
/// User-space <c>mach_msg_port_descriptor_t</c>: 12 bytes on LP64 (osfmk/mach/message.h).
/// The C bitfields <c>pad2:16, disposition:8, type:8</c> land little-endian in the word at +8,
/// so disposition is byte +10 and type byte +11 (docs/mach-abi.md §3.2).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct MachMsgPortDescriptor
{
    public uint Name;
    public uint Pad1;
    public ushort Pad2;
    public byte Disposition;
    public MachMsgDescriptorType Type;

    public static MachMsgPortDescriptor Create(uint name, MachMsgTypeName disposition) => new()
    {
        Name = name,
        Disposition = (byte)disposition,
        Type = MachMsgDescriptorType.Port,
    };
}
