// The Mach side of one joined connection, whichever side opened it: its pipes, its peer, a reset and a release.
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace MachTransport.Tools;

/// <summary>
/// One Mach connection as the splice sees it: a client's from <see cref="MachConnectionFactory"/> or one accepted by
/// the transport's listener, the same <see cref="ConnectionContext"/> either way. Completing <see cref="Pipe"/>'s
/// output sends FIN after the written bytes (a half-close); <see cref="Abort"/> sends ABORT (a reset).
/// </summary>
internal sealed class MachEnd(ConnectionContext connection) : IAsyncDisposable
{
    public IDuplexPipe Pipe => connection.Transport;

    /// <summary>The process at the other end, as the kernel reported it at the handshake.</summary>
    public int PeerPid => Credentials.Pid;

    /// <summary>The effective uid of that process.</summary>
    public uint PeerUid => Credentials.Uid;

    private MachPeerCredentials Credentials => connection.Features.Get<IMachPeerCredentialsFeature>()?.Credentials ?? default;

    public void Abort(string reason) => connection.Abort(new ConnectionAbortedException(reason));

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
