namespace MachTransport.Mach.Abi;

/// <summary>
/// The special bits (<c>MACH_MSG_MASK</c>) XNU ORs into some <c>mach_msg_return_t</c> codes to say which resource
/// ran short, e.g. <c>MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE</c> (osfmk/mach/message.h, mach-abi.md §5.2).
/// A code is compared only after <see cref="WithoutSpecialBits"/>, or a resource note would read as an unknown error.
/// </summary>
internal static class MachMsgReturnBits
{
    /// <summary><c>MACH_MSG_MASK</c>: IPC_SPACE 0x2000, VM_SPACE 0x1000, IPC_KERNEL 0x800, VM_KERNEL 0x400 (and 0x200).</summary>
    public const int Mask = 0x3e00;

    /// <summary><c>MACH_MSG_VM_SPACE</c>: no room in the receiver's address space for out-of-line memory.</summary>
    public const int VmSpace = 0x1000;

    /// <summary>
    /// The code without its special bits. A special bit alone (<c>MACH_MSG_VM_KERNEL</c> is returned bare when a
    /// message exceeds the physical-copy budget) is a failure of its own and is kept, never turned into success.
    /// </summary>
    public static MachMsgReturn WithoutSpecialBits(this MachMsgReturn result)
    {
        int code = (int)result & ~Mask;
        return code == 0 ? result : (MachMsgReturn)code;
    }
}
