using MachTransport.Infrastructure;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;

namespace MachTransport.Channel;

/// <summary>
/// The CONNECTs on the service port, on the acceptor's loop thread: checked (a CONNECT with a sender identity, a
/// client port that is not ours), admitted (peer policy, then the limits), answered with ACCEPT from a fresh
/// per-connection port or with REJECT, the reason logged and counted.
/// </summary>
internal sealed partial class MachAcceptor
{
    public void OnMessage(in MachMessageReader message)
    {
        if (message.Id != MachProtocol.Connect || !message.TryGetAuditTrailer(out MachMsgAuditTrailer trailer))
        {
            DropMalformed(message, "not a CONNECT with a sender identity");
            return;
        }

        var peer = MachPeerIdentity.From(trailer);
        if (!MachCodec.TryParseConnect(message, out uint client, out MachWindow window, out MachCloseReason reason, out string? error))
        {
            if (MachPort.IsValid(client) && !_loop.Serves(client))
            {
                Reject(client, reason, error ?? "malformed CONNECT");
            }

            DropMalformed(message, error ?? "malformed CONNECT");
            return;
        }

        if (_loop.Serves(client))
        {
            // Our service port or a connection's (a send right to a port whose receive right we hold has its name): the
            // connection would talk to itself until keep-alive closed it, and a REJECT would go to ourselves.
            DropMalformed(message, "a CONNECT whose client port is a port of this server");
            return;
        }

        string detail = string.Empty;
        MachCloseReason refusal = _unbound ? MachCloseReason.ShuttingDown
            : !IsAllowed(peer) ? MachCloseReason.PeerNotAllowed
            : _accounting.TryAdmit(peer, client, out detail);
        switch (refusal)
        {
            case MachCloseReason.None:
                break;
            case MachCloseReason.ProtocolError:
                // The client port already belongs to a connection: answering would reach that connection.
                DropMalformed(message, detail);
                return;
            case MachCloseReason.PeerNotAllowed:
                _settings.Metrics.PeerRejected();
                MachTransportLog.PeerRejected(_logger, _serviceName, peer.Pid, peer.Uid, refusal);
                RejectAndDrop(message, client, refusal, $"uid {peer.Uid} pid {peer.Pid} is not allowed");
                return;
            default:
                // Busy or stopping: routine under load, and a hostile client could flood a louder log.
                MachTransportLog.ConnectionRefused(_logger, _serviceName, peer.Pid, peer.Uid, refusal, detail);
                RejectAndDrop(message, client, refusal, refusal == MachCloseReason.ServerBusy ? $"busy: {detail}" : "shutting down");
                return;
        }

        // From here the client's send right belongs to the channel.
        Establish(new MachSendRight(_kernel, client), peer, window);
    }

    public void OnDeadName(uint deadName) => _kernel.Deallocate(deadName);

    /// <summary>Handling one CONNECT threw: that request is lost (the loop logged why), the service goes on.</summary>
    public void OnFailed(Exception error) => _settings.Metrics.ProtocolError();

    private bool IsAllowed(MachPeerIdentity peer)
    {
        try
        {
            return _policy.IsAllowed(peer);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MachTransportLog.PeerPolicyFailed(_logger, ex, _serviceName);
            return false;
        }
    }

    private void Establish(MachSendRight client, MachPeerIdentity peer, MachWindow window)
    {
        MachReceiveRight port;
        try
        {
            port = MachReceiveRight.Allocate(_kernel);
        }
        catch (MachException)
        {
            Reject(client.Name, MachCloseReason.ResourceFailure, "no port for the connection");
            _accounting.Release(peer, client.Name);
            client.Dispose();
            return;
        }

        _kernel.SetQueueLimit(port.Name, (uint)_settings.QueueLimit);
        var channel = new MachChannel(_loop, port, client, peer, window, _settings, "server");
        _live[channel] = 0;
        bool watched;
        try
        {
            watched = channel.Start(OnReleased);
        }
        catch (MachException ex)
        {
            // The port could not join the loop's set (on Linux, EPOLL_CTL_ADD past the user's epoll watches). Thrown
            // out of here, the client would wait its whole connect timeout for an answer and the peer's slot and client
            // port would stay taken until disposal: answer now, then release through the channel (REJECT goes first,
            // so the client ignores the ABORT behind it).
            Reject(channel.PeerPortName, MachCloseReason.ResourceFailure, "no port for the connection");
            Drop(channel, $"the handshake failed: the connection's port could not join the receive loop ({ex.Message})");
            return;
        }

        if (!watched)
        {
            // Without the watch the connection would never learn that its peer is gone.
            Drop(channel, "the handshake failed: the client's port could not be watched for its death");
            return;
        }

        MachMsgReturn accepted = channel.SendAccept();
        if (accepted != MachMsgReturn.Success)
        {
            MachTransportLog.SendFailed(_logger, channel.Id, "ACCEPT", MachException.Describe(accepted));
            Drop(channel, "the handshake failed");
            return;
        }

        if (!_accepted.Writer.TryWrite(channel))
        {
            Drop(channel, "the listener stopped accepting");
        }
    }

    private static void Drop(MachChannel channel, string reason)
    {
        channel.Abort(reason);
        _ = channel.DisposeAsync().AsTask();
    }

    private void OnReleased(MachChannel channel)
    {
        if (_live.TryRemove(channel, out _))
        {
            _accounting.Release(channel.Peer, channel.PeerPortName);
        }
    }

    private void Reject(uint client, MachCloseReason reason, string text) => MachSender.SendReject(_kernel, client, reason, text);

    private void RejectAndDrop(in MachMessageReader message, uint client, MachCloseReason reason, string text)
    {
        Reject(client, reason, text);
        MachMessageDisposal.Destroy(_kernel, message);
    }

    private void DropMalformed(in MachMessageReader message, string reason)
    {
        MachTransportLog.MalformedServiceMessage(_logger, _serviceName, message.Id, reason);
        _settings.Metrics.ProtocolError();
        MachMessageDisposal.Destroy(_kernel, message);
    }
}
