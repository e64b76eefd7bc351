using System.Buffers;
using System.IO.Pipelines;
using MachTransport.Infrastructure;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Microsoft.AspNetCore.Connections;

namespace MachTransport.Channel;

/// <summary>
/// The receiving half, on the receive loop's thread: every message is checked against its sender and the codec, DATA
/// is charged to the peer's credit and written to the input pipe, CREDIT opens our send window, FIN and ABORT end.
/// </summary>
internal sealed partial class MachChannel
{
    public void OnMessage(in MachMessageReader message)
    {
        if (!message.TryGetAuditTrailer(out MachMsgAuditTrailer trailer) || !Peer.Sent(trailer))
        {
            MachTransportLog.ForeignSenderDropped(_logger, Id, message.Id, trailer.Audit.Pid, Peer.Pid);
            MachMessageDisposal.Destroy(_kernel, message);
            return;
        }

        switch (message.Id)
        {
            case MachProtocol.Data:
                OnData(message);
                break;
            case MachProtocol.Credit:
                OnCredit(message);
                break;
            case MachProtocol.Fin when MachCodec.IsBare(message):
                CompleteInput(null);
                break;
            case MachProtocol.Abort when MachCodec.IsBare(message):
                OnPeerAbort(MachCodec.ReadAbortReason(message));
                break;
            default:
                Violation(message, $"unexpected message 0x{message.Id:x} ({message.DescriptorCount} descriptors)");
                break;
        }
    }

    public void OnFailed(Exception error)
        => AbortCore($"handling a message failed: {error.Message}", MachCloseReason.LocalAbort, new ConnectionAbortedException("The Mach connection failed while handling a message.", error));

    /// <summary>The application consumed <paramref name="count"/> bytes of input: they become credit for the peer.</summary>
    public void OnConsumed(long count)
    {
        lock (_lock)
        {
            _receiveCredit.Consumed(count);
            MaybeSendCreditLocked();
        }
    }

    /// <summary>Nobody reads input any more: everything that arrives from now on is granted back at once.</summary>
    public void OnInputReaderCompleted()
    {
        lock (_lock)
        {
            if (_inputState == MachInputState.Reading)
            {
                _inputState = MachInputState.ReaderGone;
            }
        }
    }

    private void OnData(in MachMessageReader message)
    {
        string? malformed = MachCodec.ParseData(message, _settings.ByteWindow, out MachDataPayload data);
        if (malformed is not null)
        {
            Violation(message, malformed);
            return;
        }

        using MachOolRegion? region = data.IsOutOfLine ? new MachOolRegion(_kernel, data.OutOfLineAddress, data.Length) : null;
        string? violation = Deliver(region is null ? data.Inline : region.Span);
        if (violation is not null)
        {
            ProtocolError(violation);
            return;
        }

        _settings.Metrics.Received(data.Length, outOfLine: region is not null);
    }

    /// <summary>Charges the peer's credit and hands <paramref name="payload"/> to the reader; returns a violation or null.</summary>
    private string? Deliver(ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            if (_state != MachChannelState.Open)
            {
                return null; // in flight when we closed: drop it
            }

            if (_inputState == MachInputState.Completed)
            {
                return "DATA after FIN";
            }

            string? overdrawn = _receiveCredit.Charge(payload.Length);
            if (overdrawn is not null)
            {
                return overdrawn;
            }

            if (_inputState == MachInputState.ReaderGone)
            {
                _receiveCredit.Consumed(payload.Length);
            }
            else
            {
                _input.Writer.Write(payload);
                // No pause threshold on the input pipe, so the flush completes at once.
                ValueTask<FlushResult> flush = _input.Writer.FlushAsync();
                if (!flush.IsCompleted)
                {
                    _ = flush.AsTask();
                }
            }

            MaybeSendCreditLocked();
            return null;
        }
    }

    private void OnCredit(in MachMessageReader message)
    {
        if (!MachCodec.TryParseCredit(message, out uint bytes, out uint messages))
        {
            Violation(message, "malformed CREDIT");
            return;
        }

        TaskCompletionSource? waiter = null;
        bool withinWindow;
        lock (_lock)
        {
            withinWindow = _sendCredit.TryAdd(bytes, messages);
            if (withinWindow)
            {
                waiter = _creditWaiter;
                _creditWaiter = null;
            }
        }

        if (!withinWindow)
        {
            ProtocolError($"CREDIT of {bytes} bytes / {messages} messages beyond the announced window");
            return;
        }

        waiter?.TrySetResult();
    }

    /// <summary>Sends the credit owed to the peer once enough is owed; a full queue retries it a millisecond later.</summary>
    private void MaybeSendCreditLocked()
    {
        if (_state != MachChannelState.Open || _inputState == MachInputState.Completed || _receiveCredit.RetryScheduled || !_receiveCredit.IsDue)
        {
            return;
        }

        MachMsgReturn result = _sender.SendCredit(_receiveCredit.OwedBytes, _receiveCredit.OwedMessages);
        if (result == MachMsgReturn.Success)
        {
            _receiveCredit.Granted();
        }
        else if (result == MachMsgReturn.SendTimedOut)
        {
            _receiveCredit.RetryScheduled = true;
            _ = RetryCreditAsync();
        }
    }

    private async Task RetryCreditAsync()
    {
        await Task.Delay(1).ConfigureAwait(false);
        lock (_lock)
        {
            _receiveCredit.RetryScheduled = false;
            MaybeSendCreditLocked();
        }
    }

    /// <summary>The peer's reason goes into the error, so a failed call says which side gave up and why.</summary>
    private void OnPeerAbort(MachCloseReason reason)
    {
        string why = reason switch
        {
            MachCloseReason.ProtocolError => "it found a protocol violation in what it received",
            MachCloseReason.LocalAbort => "its application or transport aborted the connection",
            MachCloseReason.ResourceFailure => "it ran out of a resource",
            MachCloseReason.ShuttingDown => "it is shutting down",
            MachCloseReason.Stalled => "this side granted it no credit or took no message for too long",
            _ => $"reason {(uint)reason}",
        };
        AbortCore($"the peer aborted: {why}", MachCloseReason.None, new ConnectionResetException($"The peer aborted the Mach connection: {why}."));
    }

    private void Violation(in MachMessageReader message, string reason)
    {
        MachMessageDisposal.Destroy(_kernel, message);
        ProtocolError(reason);
    }
}
