namespace MachTransport.Mach.Abi;

/// <summary>Descriptor <c>type</c> byte (byte +11 of every descriptor; osfmk/mach/message.h).</summary>
internal enum MachMsgDescriptorType : byte
{
    Port = 0,
    Ool = 1,
    OolPorts = 2,
    OolVolatile = 3,
    GuardedPort = 4,
}

/// <summary><c>mach_msg_copy_options_t</c> (osfmk/mach/message.h).</summary>
internal enum MachMsgCopyOptions : byte
{
    PhysicalCopy = 0,
    VirtualCopy = 1,
    Allocate = 2,
    Overwrite = 3,
}
