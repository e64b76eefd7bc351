namespace MachTransport;

/// <summary>Claims of a principal authenticated from a Mach connection's kernel-verified peer credentials.</summary>
public static class MachPeerClaimTypes
{
    /// <summary>The peer's process id.</summary>
    public const string Pid = "urn:machtransport:peer:pid";

    /// <summary>The peer's effective user id (also the principal's <c>ClaimTypes.NameIdentifier</c> and name).</summary>
    public const string Uid = "urn:machtransport:peer:uid";

    /// <summary>The peer's effective group id.</summary>
    public const string Gid = "urn:machtransport:peer:gid";
}
