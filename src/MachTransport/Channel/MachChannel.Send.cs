using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using MachTransport.Infrastructure;
using MachTransport.Mach.Abi;
using Microsoft.AspNetCore.Connections;

namespace MachTransport.Channel;

/// <summary>The sending half: the output pipe drained into DATA messages within the peer's credit, then FIN (or ABORT).</summary>
internal sealed partial class MachChannel
{
    // Gathering an upload's frames (Http2UploadTracker): the next frame of a body comes within microseconds when the
    // writer has it; when it does not (its HTTP/2 flow-control window is used up, or the application writes the body
    // slowly), what was gathered goes at the deadline (ChannelSettings.UploadGatherDeadline).
    private readonly Http2UploadTracker _upload = new();
    private Timer? _gatherTimer;
    private bool _gathering;
    private int _gatherExpired;

    private async Task SendLoopAsync()
    {
        // Run the loop off the caller (often the receive thread).
        await Task.Yield();
        bool graceful = false;
        long followed = 0; // bytes of the unsent buffer the upload tracker has followed
        try
        {
            while (true)
            {
                ReadResult result = await _output.Reader.ReadAsync().ConfigureAwait(false);
                // Only an abort (which closes the channel first) or a gather's deadline cancels this read. The deadline's
                // flag and its cancel are two steps: a read between them sees the flag, the next one the cancel.
                if (result.IsCanceled && !IsOpen)
                {
                    break;
                }

                bool expired = (Interlocked.Exchange(ref _gatherExpired, 0) != 0) | result.IsCanceled;

                ReadOnlySequence<byte> buffer = result.Buffer;
                if (FollowUpload(buffer, ref followed) && !expired && !result.IsCompleted && CanGather(buffer.Length))
                {
                    // More of this body is surely coming: wait for it (or the deadline) with everything unconsumed.
                    StartGathering();
                    _output.Reader.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                StopGathering();
                followed = 0;
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

        _gatherTimer?.Dispose();
        if (graceful)
        {
            _ = await _sender.SendWhenRoomAsync(static (sender, _) => sender.SendFin(), 0, _settings.CreditStallTimeout).ConfigureAwait(false);
        }

        _output.Reader.Complete();
    }

    private bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                return _state == MachChannelState.Open;
            }
        }
    }

    /// <summary>
    /// Follows the bytes of <paramref name="buffer"/> not followed yet; true if it ends in a full-size DATA frame
    /// without END_STREAM of an HTTP/2 client's stream.
    /// </summary>
    private bool FollowUpload(in ReadOnlySequence<byte> buffer, ref long followed)
    {
        if (_upload.IsOff)
        {
            return false;
        }

        bool open = _upload.EndsInOpenFullDataFrame(buffer.Slice(followed));
        followed = buffer.Length;
        return open;
    }

    /// <summary>
    /// Whether waiting for more can make this an out-of-line message: it would still go inline, and the application's
    /// writes do not wait for it to be sent (they do from <see cref="ChannelSettings.MaxWriteBufferSize"/> on, and a
    /// writer that waits for us while we wait for it would hold the frames until the deadline).
    /// </summary>
    private bool CanGather(long pending)
        => _sender.IsInline(pending) && (_settings.MaxWriteBufferSize == 0 || pending < _settings.MaxWriteBufferSize);

    private void StartGathering()
    {
        if (_gathering)
        {
            return;
        }

        if (_gatherTimer is null)
        {
            using (ExecutionContext.SuppressFlow())
            {
                _gatherTimer = new Timer(static state => ((MachChannel)state!).GatherDeadlinePassed(), this, Timeout.Infinite, Timeout.Infinite);
            }
        }

        _gathering = true;
        _ = _gatherTimer.Change(_settings.UploadGatherDeadline, Timeout.InfiniteTimeSpan);
    }

    private void StopGathering()
    {
        if (_gathering)
        {
            _gathering = false;
            _ = _gatherTimer!.Change(Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>The deadline passed with frames gathered: the send loop's read returns (cancelled) and sends them.</summary>
    private void GatherDeadlinePassed()
    {
        Volatile.Write(ref _gatherExpired, 1);
        _output.Reader.CancelPendingRead();
    }

    /// <summary>
    /// Waits until the peer's credit allows a DATA message; false once the channel is closed, or when the peer granted
    /// nothing usable for <see cref="ChannelSettings.CreditStallTimeout"/> (the channel is then aborted). A CREDIT that
    /// still leaves no room does not restart that time.
    /// </summary>
    private async ValueTask<bool> WaitForCreditAsync()
    {
        long stalledSince = 0;
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

            if (stalledSince == 0)
            {
                stalledSince = Stopwatch.GetTimestamp();
                _settings.Metrics.CreditStall();
            }

            // A timer may fire a little early: only the clock says the time is up.
            if (!await WaitQuietly(wait, TimeLeft(stalledSince)).ConfigureAwait(false) && TimeLeft(stalledSince) == TimeSpan.Zero)
            {
                Stalled("granted no credit");
                return false;
            }
        }
    }

    private TimeSpan TimeLeft(long since)
        => _settings.CreditStallTimeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Max(0, (_settings.CreditStallTimeout - Stopwatch.GetElapsedTime(since)).Ticks));

    /// <summary>The peer stopped taking what we send while we have more: it must not hold our buffers for as long as it likes.</summary>
    private void Stalled(string what)
    {
        MachTransportLog.PeerStalled(_logger, Id, what, _settings.CreditStallTimeout.TotalSeconds);
        AbortCore($"the peer {what} for {_settings.CreditStallTimeout.TotalSeconds} s", MachCloseReason.Stalled,
            new ConnectionAbortedException($"The Mach peer {what} for {_settings.CreditStallTimeout.TotalSeconds} s while data waited to be sent."));
    }

    /// <summary>Sends one DATA message, waiting while the peer's queue is full. False when the channel is closed.</summary>
    private async ValueTask<bool> SendDataAsync(ReadOnlySequence<byte> payload)
    {
        MachMsgReturn result = await _sender.SendWhenRoomAsync(static (sender, payload) => sender.SendData(payload), payload, _settings.CreditStallTimeout).ConfigureAwait(false);
        switch (result)
        {
            case MachMsgReturn.SendTimedOut:
                Stalled("took no message from its full queue");
                return false;
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
