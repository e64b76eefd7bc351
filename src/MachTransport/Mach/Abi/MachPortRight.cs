namespace MachTransport.Mach.Abi;

/// <summary><c>mach_port_right_t</c> (osfmk/mach/port.h).</summary>
internal enum MachPortRight : uint
{
    Send = 0,
    Receive = 1,
    SendOnce = 2,
    PortSet = 3,
    DeadName = 4,
}

/// <summary><c>mach_port_type_t</c> bits: <c>MACH_PORT_TYPE(right) = 1 &lt;&lt; (right + 16)</c> (osfmk/mach/port.h).</summary>
[Flags]
internal enum MachPortType : uint
{
    None = 0,
    Send = 0x10000,
    Receive = 0x20000,
    SendOnce = 0x40000,
    PortSet = 0x80000,
    DeadName = 0x100000,
    DeadNameRequest = 0x80000000,
}

/// <summary>Special port names and attribute constants (osfmk/mach/port.h).</summary>
internal static class MachPort
{
    public const uint Null = 0;
    public const uint Dead = 0xFFFFFFFF;

    public static bool IsValid(uint name) => name != Null && name != Dead;

    /// <summary><c>MACH_PORT_LIMITS_INFO</c> flavor for <c>mach_port_set_attributes</c>.</summary>
    public const int LimitsInfo = 1;
    public const int LimitsInfoCount = 1;
    public const uint QueueLimitDefault = 5;
    public const uint QueueLimitMax = 1024;
}
