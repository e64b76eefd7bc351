using System.Runtime.InteropServices;

namespace MachTransport.Mach.Abi;

/// <summary>
/// <c>mach_msg_header_t</c>: 24 bytes, 4-byte aligned (osfmk/mach/message.h, inside <c>#pragma pack(4)</c>).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct MachMsgHeader
{
    public uint Bits;
    public uint Size;
    public uint RemotePort;
    public uint LocalPort;
    public uint VoucherPort;
    public int Id;

    public readonly bool IsComplex => (Bits & MachMsgBits.Complex) != 0;

    public readonly MachMsgTypeName RemoteDisposition => (MachMsgTypeName)(Bits & MachMsgBits.RemoteMask);

    public readonly MachMsgTypeName LocalDisposition => (MachMsgTypeName)((Bits & MachMsgBits.LocalMask) >> 8);
}
