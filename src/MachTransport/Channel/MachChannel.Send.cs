using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;

namespace MachTransport.Channel;

/// <summary>The sending half: output pipe to DATA messages within the peer's credit, then FIN (or ABORT).</summary>
internal sealed partial class MachChannel
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMilliseconds(16);

    private async Task SendLoopAsync()
    {
        // Run the loop off the caller (often the receive thread).
        await Task.Yield();
        bool graceful = false;
        try
        {
            while (true)
            {
                ReadResult result = await _output.Reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                bool sent = true;
                while (!buffer.IsEmpty && (sent = await WaitForCreditAsync().ConfigureAwait(false)))
                {
                    long count;
                    lock (_lock)
                    {
                        // Debit before sending: the peer may consume and grant back before mach_msg returns here.
                        count = Math.Min(buffer.Length, _sendBytes);
                        _sendBytes -= count;
                        _sendMessages--;
                    }

                    if (!(sent = await SendDataAsync(buffer.Slice(0, count)).ConfigureAwait(false)))
                    {
                        break;
                    }

                    buffer = buffer.Slice(count);
                }

                _output.Reader.AdvanceTo(result.Buffer.End);
                if (!sent)
                {
                    break;
                }

                if (result.IsCompleted)
                {
                    graceful = true;
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The application completed the output with an error: the peer gets ABORT, not FIN.
            Abort($"the application failed the output: {ex.Message}");
        }

        if (graceful)
        {
            await SendControlAsync(MachProtocol.Fin).ConfigureAwait(false);
        }

        _output.Reader.Complete();
        lock (_lock)
        {
            FreeSendBuffer();
        }
    }

    private unsafe void FreeSendBuffer()
    {
        NativeMemory.Free(_sendBuffer);
        _sendBuffer = null;
    }

    private async ValueTask<bool> WaitForCreditAsync()
    {
        bool stalled = false;
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_aborted || _released)
                {
                    return false;
                }

                if (_sendBytes > 0 && _sendMessages > 0)
                {
                    return true;
                }

                _creditWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _creditWaiter.Task;
            }

            if (!stalled)
            {
                stalled = true;
                _settings.Metrics.CreditStall();
            }

            await wait.ConfigureAwait(false);
        }
    }

    /// <summary>Sends one DATA message; a full queue is retried after a short pause. False when the channel is closed.</summary>
    private async ValueTask<bool> SendDataAsync(ReadOnlySequence<byte> payload)
    {
        TimeSpan delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            MachMsgReturn result = payload.Length <= _inlineLimit ? SendInline(payload) : SendOutOfLine(payload);
            switch (result)
            {
                case MachMsgReturn.Success:
                    _settings.Metrics.Sent(payload.Length, outOfLine: payload.Length > _inlineLimit);
                    return true;
                case MachMsgReturn.SendTimedOut or MachMsgReturn.SendNoBuffer:
                    if (IsClosedForSending)
                    {
                        return false;
                    }

                    await Task.Delay(delay).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                    break;
                case MachMsgReturn.SendInvalidDest:
                    // The peer's port is gone; its dead-name notification closes the channel.
                    return false;
                default:
                    MachTransportLog.SendFailed(_logger, Id, "DATA", MachException.Describe(result));
                    Abort($"sending DATA failed: {MachException.Describe(result)}");
                    return false;
            }
        }
    }

    private bool IsClosedForSending
    {
        get
        {
            lock (_lock)
            {
                return _aborted || _released;
            }
        }
    }

    private unsafe MachMsgReturn SendInline(ReadOnlySequence<byte> payload)
    {
        var buffer = new Span<byte>(_sendBuffer, _sendBufferSize);
        var writer = new MachMessageWriter(buffer, MachProtocol.Data, _peerName, MachMsgTypeName.CopySend);
        writer.WriteInline((uint)payload.Length);
        payload.CopyTo(writer.AppendInline((int)payload.Length));
        int size = writer.Complete();
        MachMsgReturn result = SendLocked(size);
        if (result == MachMsgReturn.SendTimedOut)
        {
            MachMessageDisposal.ReclaimUnsent(_kernel, buffer);
        }

        return result;
    }

    /// <summary>
    /// Sends the payload as a copied (not moved) region from a pooled array: the send is synchronous and the kernel
    /// takes its own copy before mach_msg returns (Linux: written into a sealed memfd, no mapping and no page faults
    /// here; Darwin: a virtual copy), so the array goes back to the pool at once. A fresh VM region per message cost a
    /// mapping, a page fault per page and, on Linux, the remap needed to seal it.
    /// </summary>
    private unsafe MachMsgReturn SendOutOfLine(ReadOnlySequence<byte> payload)
    {
        int length = checked((int)payload.Length);
        byte[] staging = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(staging);
            fixed (byte* bytes = staging)
            {
                var buffer = new Span<byte>(_sendBuffer, _sendBufferSize);
                var writer = new MachMessageWriter(buffer, MachProtocol.Data, _peerName, MachMsgTypeName.CopySend, descriptorCount: 1);
                writer.AddOutOfLine((ulong)bytes, (uint)length, deallocate: false, MachMsgCopyOptions.VirtualCopy);
                writer.WriteInline((uint)length);
                int size = writer.Complete();
                MachMsgReturn result = SendLocked(size);
                if (result == MachMsgReturn.SendTimedOut)
                {
                    // Darwin hands the copy back as a region of its own (mach-abi.md §5.5); the emulation, our array.
                    ulong returned = MachMessageDisposal.ReclaimUnsent(_kernel, buffer);
                    if (returned != 0 && returned != (ulong)bytes)
                    {
                        _ = _kernel.VmDeallocate(returned, (ulong)length);
                    }
                }

                return result;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(staging);
        }
    }

    /// <summary>
    /// Sends the prepared DATA unless the channel was released meanwhile: after release the peer's name may
    /// already belong to another right, so nothing may be sent to it.
    /// </summary>
    private unsafe MachMsgReturn SendLocked(int size)
    {
        lock (_lock)
        {
            return _released ? MachMsgReturn.SendInvalidDest : _kernel.MachMsg(_sendBuffer, SendNow, (uint)size, 0, 0, 0).WithoutSpecialBits();
        }
    }

    /// <summary>Sends a body-less control message (FIN), retrying while the peer's queue is full.</summary>
    private async ValueTask SendControlAsync(int id)
    {
        TimeSpan delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            MachMsgReturn result = SendControl(id);
            if (result is not (MachMsgReturn.SendTimedOut or MachMsgReturn.SendNoBuffer) || IsClosedForSending)
            {
                return;
            }

            await Task.Delay(delay).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    private unsafe MachMsgReturn SendControl(int id)
    {
        lock (_lock)
        {
            if (_released)
            {
                return MachMsgReturn.SendInvalidDest;
            }

            var buffer = new Span<byte>(_controlBuffer, MachProtocol.MaxControlMessage);
            var writer = new MachMessageWriter(buffer, id, _peerName, MachMsgTypeName.CopySend);
            int size = writer.Complete();
            MachMsgReturn result = _kernel.MachMsg(_controlBuffer, SendNow, (uint)size, 0, 0, 0).WithoutSpecialBits();
            if (result == MachMsgReturn.SendTimedOut)
            {
                MachMessageDisposal.ReclaimUnsent(_kernel, buffer);
            }

            return result;
        }
    }
}
