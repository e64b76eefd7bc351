using MachTransport.Mach.Abi;

namespace MachTransport.Channel;

/// <summary>
/// The peer process of a channel as the kernel's audit trailer named it at the handshake. Every later message must
/// come from the same process, so a right passed on to another process is worthless there. A pid alone can be
/// reused; Darwin's audit token pairs it with p_idversion (val[7]). The Linux emulation has no such counter and
/// reports 0 for every sender, so there the pin is the pid alone (docs/linux-emulation.md).
/// </summary>
internal readonly record struct MachPeerIdentity(int Pid, uint Uid, uint Gid, uint PidVersion)
{
    public static MachPeerIdentity From(in MachMsgAuditTrailer trailer)
        => new(trailer.Audit.Pid, trailer.Audit.EffectiveUid, trailer.Audit.EffectiveGid, trailer.Audit.PidVersion);

    /// <summary>Whether <paramref name="trailer"/> names this very process.</summary>
    public bool Sent(in MachMsgAuditTrailer trailer) => trailer.Audit.Pid == Pid && trailer.Audit.PidVersion == PidVersion;
}
