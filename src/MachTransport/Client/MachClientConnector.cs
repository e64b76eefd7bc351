using System.Buffers;
using MachTransport.Channel;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MachTransport.Client;

/// <summary>
/// The client half of the handshake: look the service up, send CONNECT with a send right to a fresh port, and
/// wait on the shared client receive loop for ACCEPT (a channel) or REJECT (an exception).
/// </summary>
internal static class MachClientConnector
{
    /// <summary>The settings of connections made under <paramref name="options"/> (copied: later changes do not apply).</summary>
    public static ChannelSettings Settings(MachClientOptions options)
    {
        ILogger logger = options.LoggerFactory is null
            ? NullLogger.Instance
            : new RateLimitedLogger(options.LoggerFactory.CreateLogger("MachTransport.Client"), LogRateLimiter.Client);
        // The shared pool rents from ArrayPool<byte>.Shared, which keeps a few dozen arrays per size and core: a 1 MiB
        // message in 4 KiB segments ran it dry and allocated most of them. In 64 KiB segments it takes 16.
        return ChannelSettings.From(options.Limits, logger, MachTransportMetrics.Client, MemoryPool<byte>.Shared, minimumSegmentSize: 64 * 1024);
    }

    /// <summary>Connects under <paramref name="options"/> as they are now (tests and one-off connections).</summary>
    public static Task<MachChannel> ConnectAsync(string serviceName, MachClientOptions options, CancellationToken cancellationToken)
        => ConnectAsync(serviceName, Settings(options), options.ConnectTimeout, cancellationToken);

    /// <summary>Connects with <paramref name="settings"/> built once by the caller (<see cref="Settings"/>).</summary>
    public static async Task<MachChannel> ConnectAsync(string serviceName, ChannelSettings settings, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        MachReceiveLoop loop = MachReceiveLoop.Client;
        IMachKernel kernel = loop.Kernel;

        using MachSendRight service = MachBootstrap.LookUp(kernel, serviceName);
        MachReceiveRight port = MachReceiveRight.Allocate(kernel);
        var pending = new PendingConnect(loop, port, serviceName, settings);
        bool watching = false;
        try
        {
            kernel.SetQueueLimit(port.Name, (uint)settings.QueueLimit);
            loop.Register(port, pending);
            // A server that dies before answering fails the connect at once, not after the whole ConnectTimeout.
            watching = loop.WatchDeadName(service.Name, pending);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(connectTimeout);
            await SendConnectAsync(kernel, service, port, serviceName, settings, connectTimeout, timeout.Token, cancellationToken).ConfigureAwait(false);
            return await pending.Result.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            pending.Cancel();
            // An IOException, as a socket's connect timeout is to its callers (gRPC: Unavailable); the cause stays visible.
            string message = $"The Mach service '{serviceName}' did not answer the connection request within {connectTimeout.TotalSeconds:0.###} s.";
            throw new IOException(message, new TimeoutException(message));
        }
        catch
        {
            pending.Cancel();
            throw;
        }
        finally
        {
            if (watching)
            {
                loop.UnwatchDeadName(service.Name);
            }
        }
    }

    /// <summary>
    /// Sends CONNECT, retrying while the service's port is full (MACH_SEND_TIMED_OUT: its server takes no more holders
    /// for now) for up to the connect timeout, and while the system is short of resources (MACH_SEND_NO_BUFFER) for up
    /// to <see cref="ResourceShortage.Retry"/> (or the connect timeout); either ends as an error saying so, never as a
    /// dead server.
    /// </summary>
    private static async Task SendConnectAsync(IMachKernel kernel, MachSendRight service, MachReceiveRight port, string serviceName, ChannelSettings settings, TimeSpan connectTimeout, CancellationToken timeout, CancellationToken cancellationToken)
    {
        byte[] buffer = GC.AllocateArray<byte>(MachProtocol.MaxControlMessage, pinned: true);
        var shortage = default(ResourceShortage);
        while (true)
        {
            MachMsgReturn result = SendConnect(kernel, buffer, service.Name, port.Name, settings);
            switch (result)
            {
                case MachMsgReturn.Success:
                    return;
                case MachMsgReturn.SendTimedOut or MachMsgReturn.SendNoBuffer:
                    if (shortage.LastedTooLong(result) || !await RetryLaterAsync(timeout, cancellationToken).ConfigureAwait(false))
                    {
                        throw result == MachMsgReturn.SendTimedOut
                            ? new MachException(
                                $"The Mach service '{serviceName}' is busy: its port stayed full for the whole connect timeout of {connectTimeout.TotalSeconds:0.###} s (MACH_SEND_TIMED_OUT). Try again later.",
                                (int)result)
                            : new MachException(
                                $"The connection request to the Mach service '{serviceName}' could not be sent for lack of resources (MACH_SEND_NO_BUFFER): {kernel.ResourceShortageReason}",
                                (int)result);
                    }

                    break;
                case MachMsgReturn.SendInvalidDest:
                    throw new MachException(
                        $"The Mach service '{serviceName}' is registered but its server is gone (MACH_SEND_INVALID_DEST): the process that checked it in exited.",
                        (int)result);
                default:
                    throw new MachException($"Sending CONNECT to the Mach service '{serviceName}' failed: {MachException.Describe(result)}.", (int)result);
            }
        }
    }

    /// <summary>Waits a moment before the next try; false when the connect timeout ran out meanwhile.</summary>
    private static async Task<bool> RetryLaterAsync(CancellationToken timeout, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(5, timeout).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static unsafe MachMsgReturn SendConnect(IMachKernel kernel, byte[] buffer, uint service, uint port, ChannelSettings settings)
    {
        int size = MachCodec.WriteConnect(buffer, service, port, MachWindow.From(settings));
        fixed (byte* message = buffer)
        {
            return MachSender.SendNow(kernel, message, size, buffer.Length);
        }
    }

    /// <summary>Handles the one answer to CONNECT on the loop thread; from ACCEPT on the channel owns the port.</summary>
    private sealed class PendingConnect(MachReceiveLoop loop, MachReceiveRight port, string serviceName, ChannelSettings settings) : IMachPortHandler
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

        /// <summary>The service's port died before it answered: its server exited.</summary>
        public void OnDeadName(uint deadName)
        {
            loop.Kernel.Deallocate(deadName);
            if (Interlocked.CompareExchange(ref _state, Answered, Waiting) == Waiting)
            {
                ReleasePort();
                _result.TrySetException(new IOException($"The Mach service '{serviceName}' went away before answering the connection request: its server exited."));
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
}
