namespace MachTransport;

/// <summary>
/// The bootstrap domain a Mach service name is registered in, as launchd keeps them on macOS. Clients need not
/// choose: a look-up searches the user's own domain, then the system domain.
/// </summary>
public enum MachBootstrapDomain
{
    /// <summary>
    /// The domain of this process's user: only processes of the same user find the name. On Linux, the registry
    /// directory of the user (docs/linux-emulation.md); on macOS, the domain of the process's bootstrap port.
    /// </summary>
    User = 0,

    /// <summary>
    /// The system domain, where the names of a privileged helper live: processes of every user find the name (who may
    /// connect is then the <c>PeerPolicy</c>'s decision), and a user's own name of the same spelling shadows it. On
    /// Linux only root registers here (<c>BOOTSTRAP_NOT_PRIVILEGED</c> otherwise), in a directory only root can write,
    /// <c>/run/machtransport</c> by default. On macOS the domain is the one launchd started the process in, whatever
    /// this says: a LaunchDaemon that declares the name under <c>MachServices</c> in its plist registers it in the
    /// system domain; the value documents the intent.
    /// </summary>
    System = 1,
}
