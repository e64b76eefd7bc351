using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;

namespace MachTransport.Channel;

/// <summary>
/// The client half of the handshake: look the service up, send CONNECT with a send right to a fresh port, and wait on
/// a receive loop for the answer (<see cref="MachPendingConnect"/>): ACCEPT gives a ready channel; REJECT, the service's
/// death or the connect timeout give an exception saying which.
/// </summary>
internal static class MachConnector
{
    /// <summary>Connects to <paramref name="serviceName"/>; the channel's port and its answer are served by <paramref name="loop"/>.</summary>
    public static async Task<MachChannel> ConnectAsync(MachReceiveLoop loop, string serviceName, ChannelSettings settings, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        // Before anything reaches the server: a CONNECT sent for a cancelled connect has it build a connection for nobody.
        cancellationToken.ThrowIfCancellationRequested();
        IMachKernel kernel = loop.Kernel;
        using MachSendRight service = MachBootstrap.LookUp(kernel, serviceName);
        MachReceiveRight port = MachReceiveRight.Allocate(kernel);
        var pending = new MachPendingConnect(loop, port, serviceName, settings);
        bool watching = false;
        try
        {
            kernel.SetQueueLimit(port.Name, (uint)settings.QueueLimit);
            loop.Register(port, pending);
            // A server that dies before answering fails the connect at once, not after the whole ConnectTimeout.
            watching = MachServiceDeathWatch.Join(loop, service.Name, pending);
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
                MachServiceDeathWatch.Leave(loop, service.Name, pending);
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
}
