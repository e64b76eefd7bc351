using System.Runtime.InteropServices;

namespace MachTransport.Mach.Abi;

/// <summary>Notification message ids (osfmk/mach/notify.h, octal there).</summary>
internal static class MachNotifyId
{
    public const int PortDeleted = 65;       // 0101
    public const int SendPossible = 66;      // 0102
    public const int PortDestroyed = 69;     // 0105
    public const int NoSenders = 70;         // 0106
    public const int SendOnce = 71;          // 0107
    public const int DeadName = 72;          // 0110
}

/// <summary>
/// <c>mach_dead_name_notification_t</c> without its trailer: header, <c>NDR_record_t</c>, the dead name
/// (msgh_size 36; osfmk/mach/notify.h). Port-deleted and send-possible share the layout.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct MachDeadNameNotification
{
    public MachMsgHeader Header;
    public NdrRecord Ndr;
    public uint NotPort;
}

/// <summary><c>NDR_record_t</c>: eight bytes describing data representation (osfmk/mach/ndr.h).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct NdrRecord
{
    public byte MigVersion;
    public byte IfVersion;
    public byte Reserved1;
    public byte MigEncoding;
    public byte IntRep;
    public byte CharRep;
    public byte FloatRep;
    public byte Reserved2;

    /// <summary>The record the kernel sends: little-endian integers (<c>NDR_INT_LITTLE_ENDIAN</c> = 1), ASCII, IEEE floats.</summary>
    public static NdrRecord Native => new() { IntRep = 1 };
}
