using System.Runtime.InteropServices;

namespace MachTransport.Mach.Abi;

/// <summary>
/// <c>mach_msg_audit_trailer_t</c> (52 bytes; osfmk/mach/message.h). Smaller trailers are prefixes of it;
/// <see cref="TrailerSize"/> says how much of it the kernel wrote.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct MachMsgAuditTrailer
{
    public uint TrailerType;
    public uint TrailerSize;
    public uint Seqno;
    /// <summary><c>security_token_t.val[0]</c>: effective uid.</summary>
    public uint SenderUid;
    /// <summary><c>security_token_t.val[1]</c>: effective gid.</summary>
    public uint SenderGid;
    public AuditToken Audit;

    /// <summary>Bytes of each trailer format (docs/mach-abi.md §6).</summary>
    public const int MinimalSize = 8;
    public const int SeqnoSize = 12;
    public const int SecuritySize = 20;
    public const int AuditSize = 52;
    public const int ContextSize = 60;
    /// <summary><c>MAX_TRAILER_SIZE</c>.</summary>
    public const int MaxSize = 68;

    /// <summary>Trailer bytes a receive with <paramref name="options"/> asks the kernel to append (<c>REQUESTED_TRAILER_SIZE</c>).</summary>
    public static int RequestedSize(MachMsgOption options) => (((uint)options & MachMsgOptions.TrailerElementsMask) >> 24) switch
    {
        0 => MinimalSize,
        1 => SeqnoSize,
        2 => SecuritySize,
        3 => AuditSize,
        4 => ContextSize,
        _ => MaxSize,
    };
}

/// <summary><c>audit_token_t</c>: eight words as <c>proc_calc_audit_token</c> fills them (bsd/kern/kern_prot.c).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct AuditToken
{
    public uint AuditUserId;
    public uint EffectiveUid;
    public uint EffectiveGid;
    public uint RealUid;
    public uint RealGid;
    public int Pid;
    public uint AuditSessionId;
    public uint PidVersion;
}
