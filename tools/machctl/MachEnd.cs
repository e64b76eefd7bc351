// The Mach side of one joined connection, whichever side opened it: its pipes, its peer, a reset and a release.
using System.IO.Pipelines;
using MachTransport.Channel;
using Microsoft.AspNetCore.Connections;

namespace MachTransport.Tools;

/// <summary>
/// One Mach connection as the splice sees it. Completing <see cref="Pipe"/>'s output sends FIN after the written
/// bytes (a half-close); <see cref="Abort"/> sends ABORT (a reset).
/// </summary>
internal abstract class MachEnd : IAsyncDisposable
{
    public abstract IDuplexPipe Pipe { get; }

    /// <summary>The process at the other end, as the kernel reported it at the handshake.</summary>
    public abstract int PeerPid { get; }

    /// <summary>The effective uid of that process.</summary>
    public abstract uint PeerUid { get; }

    public abstract void Abort(string reason);

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// A connection opened with the public <see cref="MachConnectionFactory"/>. Its stream's channel gives
    /// the pipes themselves: a Stream has no half-close, and going through it would copy every byte once more.
    /// </summary>
    public static MachEnd FromClientStream(Stream stream) => new ClientEnd((MachChannelStream)stream);

    /// <summary>A connection accepted by the transport's listener.</summary>
    public static MachEnd FromAccepted(ConnectionContext connection) => new AcceptedEnd(connection);

    private sealed class ClientEnd(MachChannelStream stream) : MachEnd
    {
        public override IDuplexPipe Pipe => stream.Channel;

        public override int PeerPid => stream.Channel.Peer.Pid;

        public override uint PeerUid => stream.Channel.Peer.Uid;

        public override void Abort(string reason) => stream.Channel.Abort(reason);

        public override ValueTask DisposeAsync() => stream.DisposeAsync();
    }

    private sealed class AcceptedEnd(ConnectionContext connection) : MachEnd
    {
        public override IDuplexPipe Pipe => connection.Transport;

        public override int PeerPid => connection.Features.Get<IMachPeerCredentialsFeature>()?.Credentials.Pid ?? 0;

        public override uint PeerUid => connection.Features.Get<IMachPeerCredentialsFeature>()?.Credentials.Uid ?? 0;

        public override void Abort(string reason) => connection.Abort(new ConnectionAbortedException(reason));

        public override ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
