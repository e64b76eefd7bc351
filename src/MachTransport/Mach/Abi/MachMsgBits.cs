namespace MachTransport.Mach.Abi;

/// <summary><c>msgh_bits</c> masks and setters (osfmk/mach/message.h).</summary>
internal static class MachMsgBits
{
    public const uint RemoteMask = 0x0000001f;
    public const uint LocalMask = 0x00001f00;
    public const uint VoucherMask = 0x001f0000;
    public const uint PortsMask = 0x001f1f1f;
    public const uint Complex = 0x80000000;
    /// <summary>The only bits a sender may set (<c>MACH_MSGH_BITS_USER</c>).</summary>
    public const uint User = 0x801f1f1f;
    /// <summary>Every bit the kernel may report on receive (<c>MACH_MSGH_BITS_USED</c>).</summary>
    public const uint Used = 0xb01f1f1f;

    /// <summary><c>MACH_MSGH_BITS_SET_PORTS(remote, local, 0)</c>, optionally with the complex flag.</summary>
    public static uint Make(MachMsgTypeName remote, MachMsgTypeName local = MachMsgTypeName.None, bool complex = false)
        => ((uint)remote & RemoteMask) | (((uint)local << 8) & LocalMask) | (complex ? Complex : 0);
}
