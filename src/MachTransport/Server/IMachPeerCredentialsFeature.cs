namespace MachTransport.Server;

/// <summary>
/// Connection feature with the identity of the client process, from the kernel (audit trailer on macOS,
/// SCM_CREDENTIALS on Linux). Reachable as <c>HttpContext.Features.Get&lt;IMachPeerCredentialsFeature&gt;()</c>.
/// </summary>
public interface IMachPeerCredentialsFeature
{
    /// <summary>The client's process id.</summary>
    int Pid { get; }

    /// <summary>The client's effective user id.</summary>
    uint Uid { get; }

    /// <summary>The client's effective group id.</summary>
    uint Gid { get; }
}
