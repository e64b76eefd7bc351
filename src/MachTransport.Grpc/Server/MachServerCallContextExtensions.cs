using Grpc.Core;

namespace MachTransport.Grpc;

/// <summary>The kernel-verified identity of the process that made a call.</summary>
public static class MachServerCallContextExtensions
{
    /// <summary>
    /// The peer process of a call that arrived over Mach (pid, effective uid and gid, from the kernel at the
    /// connection's handshake; nothing the client sent), or null for a call over any other transport.
    /// </summary>
    public static MachPeerCredentials? GetMachPeer(this ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetHttpContext().Features.Get<IMachPeerCredentialsFeature>()?.Credentials;
    }
}
