using System.Buffers;
using System.IO.Pipelines;
using MachTransport.Mach;
using MachTransport.Mach.Abi;

namespace MachTransport.Channel;

/// <summary>The sending half: the output pipe drained into DATA messages within the peer's credit, then FIN (or ABORT).</summary>
internal sealed partial class MachChannel
{
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
                        count = _sendCredit.Take(buffer.Length);
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
            _ = await _sender.SendWhenRoomAsync(static (sender, _) => sender.SendFin(), 0).ConfigureAwait(false);
        }

        _output.Reader.Complete();
    }

    private async ValueTask<bool> WaitForCreditAsync()
    {
        bool stalled = false;
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_state != MachChannelState.Open)
                {
                    return false;
                }

                if (_sendCredit.CanSend)
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

    /// <summary>Sends one DATA message, waiting while the peer's queue is full. False when the channel is closed.</summary>
    private async ValueTask<bool> SendDataAsync(ReadOnlySequence<byte> payload)
    {
        MachMsgReturn result = await _sender.SendWhenRoomAsync(static (sender, payload) => sender.SendData(payload), payload).ConfigureAwait(false);
        switch (result)
        {
            case MachMsgReturn.Success:
                _settings.Metrics.Sent(payload.Length, outOfLine: !_sender.IsInline(payload.Length));
                return true;
            case MachMsgReturn.SendInvalidDest:
                // The peer's port is gone (its dead-name notification closes the channel), or we stopped sending.
                return false;
            default:
                MachTransportLog.SendFailed(_logger, Id, "DATA", _sender.Explain(result));
                Abort($"sending DATA failed: {_sender.Explain(result)}");
                return false;
        }
    }
}
