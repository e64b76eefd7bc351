namespace MachTransport.Mach.Abi;

/// <summary><c>mach_msg_option_t</c> bits (osfmk/mach/message.h).</summary>
[Flags]
internal enum MachMsgOption
{
    None = 0,
    SendMsg = 0x00000001,
    ReceiveMsg = 0x00000002,
    ReceiveLarge = 0x00000004,
    ReceiveLargeIdentity = 0x00000008,
    SendTimeout = 0x00000010,
    SendInterrupt = 0x00000040,
    ReceiveTimeout = 0x00000100,
    ReceiveInterrupt = 0x00000400,

    /// <summary><c>MACH_RCV_TRAILER_TYPE(0) | MACH_RCV_TRAILER_ELEMENTS(MACH_RCV_TRAILER_AUDIT)</c>.</summary>
    ReceiveTrailerAudit = 3 << 24,
}

/// <summary>Helpers for the trailer fields packed into <see cref="MachMsgOption"/>.</summary>
internal static class MachMsgOptions
{
    public const uint TrailerElementsMask = 0x0f000000;

    /// <summary><c>MACH_RCV_TRAILER_ELEMENTS(x)</c>.</summary>
    public static MachMsgOption TrailerElements(int elements) => (MachMsgOption)((elements & 0xf) << 24);

    /// <summary><c>MACH_RCV_TRAILER_TYPE(x)</c>; only format 0 exists.</summary>
    public static MachMsgOption TrailerType(int type) => (MachMsgOption)((type & 0xf) << 28);
}
