namespace MachTransport;

/// <summary>
/// Connection feature with the identity of the client process, from the kernel (audit trailer on macOS,
/// SCM_CREDENTIALS on Linux). Reachable as <c>HttpContext.Features.Get&lt;IMachPeerCredentialsFeature&gt;()?.Credentials</c>.
/// </summary>
public interface IMachPeerCredentialsFeature
{
    /// <summary>The client process's pid, effective uid and gid, as the kernel reported them at the handshake.</summary>
    MachPeerCredentials Credentials { get; }
}
