namespace MachTransport;

/// <summary>Names of the Mach peer authentication scheme.</summary>
public static class MachPeerAuthenticationDefaults
{
    /// <summary>The scheme name <c>AddMachPeer()</c> registers by default: "MachPeer".</summary>
    public const string AuthenticationScheme = "MachPeer";
}
