using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>
/// One CONNECT of <see cref="MachConnector"/> waiting for its answer: handles it on the loop thread (ACCEPT, REJECT,
/// the service's death or a malformed reply) exactly once; from ACCEPT on the channel owns the port.
/// </summary>
internal sealed class MachPendingConnect(MachReceiveLoop loop, MachReceiveRight port, string serviceName, ChannelSettings settings) : IMachPortHandler
{
    private const int Waiting = 0, Answered = 1, Cancelled = 2;
    private readonly TaskCompletionSource<MachChannel> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public Task<MachChannel> Result => _result.Task;

    /// <summary>What the shared loop has to say about this connect goes to the log of the factory that made it.</summary>
    public ILogger Logger => settings.Logger;

    public void OnMessage(in MachMessageReader message)
    {
        IMachKernel kernel = loop.Kernel;
        if (Interlocked.CompareExchange(ref _state, Answered, Waiting) != Waiting)
        {
            MachMessageDisposal.Destroy(kernel, message);
            return;
        }

        if (!message.TryGetAuditTrailer(out MachMsgAuditTrailer trailer))
        {
            Fail(message, new IOException($"The answer of Mach service '{serviceName}' carried no sender identity."));
            return;
        }

        switch (message.Id)
        {
            case MachProtocol.Accept:
                OnAccept(message, MachPeerIdentity.From(trailer));
                return;
            case MachProtocol.Reject when MachCodec.TryParseReject(message, out MachCloseReason reason, out string text):
                Fail(message, new MachConnectionRejectedException(Describe(reason, text), serviceName, (MachRejectReason)reason));
                return;
            default:
                Fail(message, new IOException($"The Mach service '{serviceName}' answered the connection request with a malformed message 0x{message.Id:x}."));
                return;
        }
    }

    private void OnAccept(in MachMessageReader message, MachPeerIdentity server)
    {
        if (!MachCodec.TryParseAccept(message, out uint connectionPort, out MachWindow window, out string? malformed))
        {
            Fail(message, new IOException(MachCodec.IsAcceptOfDeadPort(message)
                ? $"The Mach service '{serviceName}' closed the connection right after accepting it."
                : $"The Mach service '{serviceName}' answered the connection request with a malformed ACCEPT: {malformed}."));
            return;
        }

        var channel = new MachChannel(loop, port, new MachSendRight(loop.Kernel, connectionPort), server, window, settings, "client");
        if (!channel.Start(null))
        {
            channel.Abort("the server's connection port died during the handshake");
            _ = channel.DisposeAsync().AsTask();
            _result.TrySetException(new IOException($"The Mach service '{serviceName}' closed the connection during the handshake."));
            return;
        }

        _result.TrySetResult(channel);
    }

    /// <summary>Not watched alone (<see cref="MachServiceDeathWatch"/> watches the service for every connect); a notice that comes anyway is its death.</summary>
    public void OnDeadName(uint deadName)
    {
        loop.Kernel.Deallocate(deadName);
        OnServiceDied();
    }

    /// <summary>The service's port died before it answered: its server exited.</summary>
    public void OnServiceDied()
    {
        if (Interlocked.CompareExchange(ref _state, Answered, Waiting) == Waiting)
        {
            ReleasePort();
            _result.TrySetException(new IOException($"The Mach service '{serviceName}' went away before answering the connection request: its server exited."));
        }
    }

    /// <summary>The watch on the service failed (its loop stopped): a connect still waiting fails as if its answer could not be handled.</summary>
    public void OnWatchFailed(Exception error)
    {
        if (Interlocked.CompareExchange(ref _state, Answered, Waiting) == Waiting)
        {
            ReleasePort();
            _result.TrySetException(new IOException($"The answer of Mach service '{serviceName}' could not be handled.", error));
        }
    }

    public void OnFailed(Exception error)
    {
        if (_result.TrySetException(new IOException($"The answer of Mach service '{serviceName}' could not be handled.", error)))
        {
            ReleasePort();
        }
    }

    public void Cancel()
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting)
        {
            ReleasePort();
            return;
        }

        // The answer won the race: whatever channel it produced is nobody's now.
        _result.Task.ContinueWith(static t => t.Result.DisposeAsync(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    private void Fail(in MachMessageReader message, Exception error)
    {
        MachMessageDisposal.Destroy(loop.Kernel, message);
        ReleasePort();
        _result.TrySetException(error);
    }

    /// <summary>No answer will come for this connect: the client port leaves the loop and is destroyed.</summary>
    private void ReleasePort()
    {
        loop.Unregister(port);
        port.Dispose();
    }

    private string Describe(MachCloseReason reason, string text) => reason switch
    {
        MachCloseReason.PeerNotAllowed => $"The Mach service '{serviceName}' denied access to this process: its peer policy rejected it ({text}).",
        MachCloseReason.VersionMismatch => $"The Mach service '{serviceName}' speaks another protocol version ({text}).",
        MachCloseReason.ServerBusy => $"The Mach service '{serviceName}' has reached its connection limit ({text}).",
        MachCloseReason.ShuttingDown => $"The Mach service '{serviceName}' is shutting down ({text}).",
        _ => $"The Mach service '{serviceName}' rejected the connection (reason {(int)reason}: {text}).",
    };
}
