using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>
/// A duplex byte stream over a pair of ports: our receive right (registered on a <see cref="MachReceiveLoop"/>) and a
/// send right to the peer's port. Inbound DATA is written into the input pipe on the loop thread; a send loop drains
/// the output pipe into DATA messages (inline or out of line) as far as the peer's credit allows, so no send ever
/// waits in a full queue. Everything the peer sends is validated; a violation aborts only this channel.
/// </summary>
internal sealed partial class MachChannel : IDuplexPipe, IMachPortHandler, IAsyncDisposable
{
    private const MachMsgOption SendNow = MachMsgOption.SendMsg | MachMsgOption.SendTimeout;
    private static long s_nextId;

    private readonly IMachKernel _kernel;
    private readonly MachReceiveLoop _loop;
    private readonly MachReceiveRight _port;
    private readonly MachSendRight _peer;
    private readonly uint _peerName;

    // A pid alone can be reused; Darwin's audit token pairs it with p_idversion (val[7]). The Linux emulation has
    // no such counter and reports 0 for every sender, so there the pin is the pid alone (docs/linux-emulation.md).
    private readonly ChannelSettings _settings;
    private readonly ILogger _logger;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly ChannelInputReader _inputReader;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly MachWindow _peerWindow;
    private readonly int _inlineLimit;
    private readonly int _sendBufferSize;
    private unsafe byte* _sendBuffer;
    private unsafe byte* _controlBuffer;
    private Action<MachChannel>? _onReleased;

    // Our credit towards the peer (what we may still send), under _lock.
    private long _sendBytes;
    private long _sendMessages;
    private TaskCompletionSource? _creditWaiter;

    // The peer's credit towards us as we granted it, and what we owe it, under _lock.
    private long _peerBytes;
    private long _peerMessages;
    private long _grantBytes;
    private long _grantMessages;
    private bool _creditRetryScheduled;

    private bool _inputCompleted;
    private bool _inputReaderCompleted;
    private bool _aborted;
    private bool _released;
    private bool _deadNameReferenceHeld;
    private bool _sendLoopStarted;
    private Task _sendLoop = Task.CompletedTask;
    private int _disposed;

    public unsafe MachChannel(
        MachReceiveLoop loop,
        MachReceiveRight port,
        MachSendRight peer,
        MachPeerIdentity peerIdentity,
        MachWindow peerWindow,
        ChannelSettings settings,
        string side)
    {
        _kernel = loop.Kernel;
        _loop = loop;
        _port = port;
        _peer = peer;
        _peerName = peer.Name;
        _settings = settings;
        _logger = settings.Logger;
        Peer = peerIdentity;
        Id = $"{side}-{Environment.ProcessId:x}-{Interlocked.Increment(ref s_nextId):x}";
        _peerWindow = peerWindow;
        _inlineLimit = (int)Math.Min((uint)settings.InlineThreshold, peerWindow.MaxInline);
        _sendBytes = peerWindow.Bytes;
        _sendMessages = peerWindow.Messages;
        _peerBytes = settings.ByteWindow;
        _peerMessages = settings.MessageWindow;

        _input = new Pipe(settings.InputPipeOptions);
        _output = new Pipe(settings.OutputPipeOptions);
        _inputReader = new ChannelInputReader(_input.Reader, this);
        // Header, body count and one OOL descriptor (unused when inline), the length prefix, the payload, padding.
        _sendBufferSize = 24 + 4 + 16 + MachProtocol.DataPrefixSize + _inlineLimit + 4;
        _sendBuffer = (byte*)NativeMemory.Alloc((nuint)_sendBufferSize);
        _controlBuffer = (byte*)NativeMemory.Alloc(MachProtocol.MaxControlMessage);
    }

    public string Id { get; }

    public MachPeerIdentity Peer { get; }

    /// <summary>The name of the peer's port in this task (tests use it to play a hostile peer).</summary>
    public uint PeerPortName => _peerName;

    /// <summary>The name of this side's own receive port (tests hand a send right to it to another process).</summary>
    public uint PortName => _port.Name;

    public PipeReader Input => _inputReader;

    public MemoryPool<byte> MemoryPool => _settings.MemoryPool;

    public PipeWriter Output => _output.Writer;

    /// <summary>Cancelled once the channel is closed: peer gone, aborted, or released.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Starts routing and sending: registers the port, watches the peer, starts the send loop.</summary>
    public bool Start(Action<MachChannel>? onReleased)
    {
        _onReleased = onReleased;
        _loop.Register(_port, this);
        if (!_loop.WatchDeadName(_peerName, this))
        {
            return false;
        }

        MachTransportLog.ConnectionEstablished(_logger, Id, Peer.Pid, Peer.Uid, Peer.Gid);
        _sendLoopStarted = true;
        _sendLoop = SendLoopAsync();
        return true;
    }

    /// <summary>Sends ACCEPT carrying a send right to our port (server side of the handshake, before any DATA).</summary>
    public unsafe MachMsgReturn SendAccept()
    {
        lock (_lock)
        {
            var buffer = new Span<byte>(_controlBuffer, MachProtocol.MaxControlMessage);
            int size = MachHandshake.WriteAccept(buffer, _peerName, _port.Name, MachWindow.From(_settings));
            MachMsgReturn result = _kernel.MachMsg(_controlBuffer, SendNow, (uint)size, 0, 0, 0).WithoutSpecialBits();
            if (result == MachMsgReturn.SendTimedOut)
            {
                MachMessageDisposal.ReclaimUnsent(_kernel, buffer);
            }

            return result;
        }
    }

    /// <summary>Closes both directions now: tells the peer (ABORT), fails pending reads with <paramref name="inputError"/>.</summary>
    public void Abort(string reason, Exception? inputError = null) => AbortCore(reason, MachCloseReason.LocalAbort, inputError);

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
            case MachProtocol.Fin when IsBare(message):
                CompleteInput(null);
                break;
            case MachProtocol.Abort when IsBare(message):
                AbortCore("the peer aborted", MachCloseReason.None, new ConnectionResetException("The peer aborted the Mach connection."));
                break;
            default:
                Violation(message, $"unexpected message 0x{message.Id:x} ({message.DescriptorCount} descriptors)");
                break;
        }
    }

    public void OnFailed(Exception error)
        => AbortCore($"handling a message failed: {error.Message}", MachCloseReason.LocalAbort, new ConnectionAbortedException("The Mach connection failed while handling a message.", error));

    public void OnDeadName(uint deadName)
    {
        lock (_lock)
        {
            if (_released)
            {
                _kernel.Deallocate(deadName);
                return;
            }

            _deadNameReferenceHeld = true;
        }

        // Messages the peer sent before it died are still queued on our port: deliver them first.
        _loop.Drain(_port);
        MachTransportLog.PeerDied(_logger, Id);
        AbortCore("the peer's port died", MachCloseReason.None, new ConnectionResetException("The Mach peer closed the connection or its process exited."));

        // Nothing can travel any more: give the ports back now, not when the application finishes its requests.
        Release();
    }

    /// <summary>The application consumed <paramref name="count"/> bytes of input: they become credit for the peer.</summary>
    public void OnConsumed(long count)
    {
        lock (_lock)
        {
            _grantBytes += count;
            MaybeSendCreditLocked();
        }
    }

    /// <summary>Nobody reads input any more: everything that arrives from now on is granted back at once.</summary>
    public void OnInputReaderCompleted()
    {
        lock (_lock)
        {
            _inputReaderCompleted = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _output.Writer.Complete();
        if (!await WaitQuietly(_sendLoop, TimeSpan.FromSeconds(5)).ConfigureAwait(false))
        {
            Abort("the send loop did not drain within 5 s of disposal");
            await WaitQuietly(_sendLoop, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        Release();
    }

    private static async Task<bool> WaitQuietly(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static bool IsBare(in MachMessageReader message)
        => !message.Header.IsComplex && message.Header.RemoteDisposition == MachMsgTypeName.None;

    private void OnData(in MachMessageReader message)
    {
        MachMsgHeader header = message.Header;
        ReadOnlySpan<byte> body = message.Body;
        if (header.RemoteDisposition != MachMsgTypeName.None || body.Length < MachProtocol.DataPrefixSize)
        {
            Violation(message, "DATA with a reply right or without a length");
            return;
        }

        uint length = MachProtocol.ReadU32(body, 0);
        MachOolRegion? region = null;
        if (header.IsComplex)
        {
            MachDescriptor ool = default;
            foreach (MachDescriptor descriptor in message.Descriptors)
            {
                ool = descriptor;
            }

            if (message.DescriptorCount != 1 || ool.Type != MachMsgDescriptorType.Ool || ool.Size != length || length == 0 || ool.Address == 0)
            {
                Violation(message, $"out-of-line DATA of {length} bytes with {message.DescriptorCount} descriptors (type {ool.Type}, size {ool.Size})");
                return;
            }

            // Before the region is touched: a claim beyond the whole window (at most 2 GiB) can never be within credit.
            if (length > _settings.ByteWindow)
            {
                Violation(message, $"out-of-line DATA of {length} bytes exceeds the {_settings.ByteWindow}-byte window");
                return;
            }

            region = new MachOolRegion(_kernel, ool.Address, ool.Size);
        }
        else if (length == 0 || length > MachProtocol.MaxInlinePayload || length > body.Length - MachProtocol.DataPrefixSize || body.Length - MachProtocol.DataPrefixSize - length > 3)
        {
            Violation(message, $"inline DATA claiming {length} bytes in a {body.Length}-byte body");
            return;
        }

        using (region)
        {
            ReadOnlySpan<byte> payload = region is null ? body.Slice(MachProtocol.DataPrefixSize, (int)length) : region.Span[..(int)length];
            string? violation = Deliver(payload);
            if (violation is not null)
            {
                ProtocolError(violation);
                return;
            }
        }

        _settings.Metrics.Received(length, outOfLine: region is not null);
    }

    /// <summary>Charges the peer's credit and hands <paramref name="payload"/> to the reader; returns a violation or null.</summary>
    private string? Deliver(ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            if (_released || _aborted)
            {
                return null; // in flight when we closed: drop it
            }

            if (_inputCompleted)
            {
                return "DATA after FIN";
            }

            if (payload.Length > _peerBytes || _peerMessages < 1)
            {
                return $"DATA of {payload.Length} bytes exceeds the credit ({_peerBytes} bytes, {_peerMessages} messages)";
            }

            _peerBytes -= payload.Length;
            _peerMessages--;
            _grantMessages++;
            if (_inputReaderCompleted)
            {
                _grantBytes += payload.Length;
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
        if (!IsBare(message) || message.Body.Length < MachProtocol.CreditBodySize)
        {
            Violation(message, "malformed CREDIT");
            return;
        }

        uint bytes = MachProtocol.ReadU32(message.Body, 0), messages = MachProtocol.ReadU32(message.Body, 1);
        TaskCompletionSource? waiter = null;
        bool withinWindow;
        lock (_lock)
        {
            withinWindow = _sendBytes + bytes <= _peerWindow.Bytes && _sendMessages + messages <= _peerWindow.Messages;
            if (withinWindow)
            {
                _sendBytes += bytes;
                _sendMessages += messages;
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

    private unsafe void MaybeSendCreditLocked()
    {
        if (_released || _aborted || _inputCompleted || _creditRetryScheduled)
        {
            return;
        }

        if (_grantBytes < _settings.ByteWindow / 4 && _grantMessages < Math.Max(1, _settings.MessageWindow / 4))
        {
            return;
        }

        var buffer = new Span<byte>(_controlBuffer, MachProtocol.MaxControlMessage);
        var writer = new MachMessageWriter(buffer, MachProtocol.Credit, _peerName, MachMsgTypeName.CopySend);
        writer.WriteInline((uint)_grantBytes);
        writer.WriteInline((uint)_grantMessages);
        int size = writer.Complete();
        MachMsgReturn result = _kernel.MachMsg(_controlBuffer, SendNow, (uint)size, 0, 0, 0).WithoutSpecialBits();
        if (result == MachMsgReturn.Success)
        {
            _peerBytes += _grantBytes;
            _peerMessages += _grantMessages;
            _grantBytes = 0;
            _grantMessages = 0;
        }
        else if (result == MachMsgReturn.SendTimedOut)
        {
            MachMessageDisposal.ReclaimUnsent(_kernel, buffer);
            _creditRetryScheduled = true;
            _ = RetryCreditAsync();
        }
    }

    private async Task RetryCreditAsync()
    {
        await Task.Delay(1).ConfigureAwait(false);
        lock (_lock)
        {
            _creditRetryScheduled = false;
            MaybeSendCreditLocked();
        }
    }

    private void Violation(in MachMessageReader message, string reason)
    {
        MachMessageDisposal.Destroy(_kernel, message);
        ProtocolError(reason);
    }

    private void ProtocolError(string reason)
    {
        MachTransportLog.ProtocolError(_logger, Id, reason);
        _settings.Metrics.ProtocolError();
        AbortCore(reason, MachCloseReason.ProtocolError, new ConnectionResetException($"The Mach peer violated the protocol: {reason}"));
    }

    private unsafe void AbortCore(string reason, MachCloseReason sendReason, Exception? inputError)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (_aborted || _released)
            {
                return;
            }

            _aborted = true;
            waiter = _creditWaiter;
            _creditWaiter = null;
            if (sendReason != MachCloseReason.None)
            {
                var writer = new MachMessageWriter(new Span<byte>(_controlBuffer, MachProtocol.MaxControlMessage), MachProtocol.Abort, _peerName, MachMsgTypeName.CopySend);
                writer.WriteInline((uint)sendReason);
                int size = writer.Complete();
                if (_kernel.MachMsg(_controlBuffer, SendNow, (uint)size, 0, 0, 0).WithoutSpecialBits() == MachMsgReturn.SendTimedOut)
                {
                    MachMessageDisposal.ReclaimUnsent(_kernel, new Span<byte>(_controlBuffer, size));
                }
            }
        }

        MachTransportLog.ConnectionAborted(_logger, Id, reason);
        CompleteInput(inputError ?? new ConnectionAbortedException(reason));
        _output.Reader.CancelPendingRead();
        waiter?.TrySetResult();
        FireClosed();
    }

    private void CompleteInput(Exception? error)
    {
        lock (_lock)
        {
            if (_inputCompleted)
            {
                return;
            }

            _inputCompleted = true;
            _input.Writer.Complete(error);
        }
    }

    private void FireClosed()
        => ThreadPool.UnsafeQueueUserWorkItem(static state => state.CancelQuietly(), this, preferLocal: false);

    private void CancelQuietly()
    {
        try
        {
            _closed.Cancel();
        }
        catch (AggregateException ex)
        {
            // A ConnectionClosed callback of the application threw: never let it take the process down.
            MachTransportLog.ClosedCallbackFailed(_logger, ex, Id);
        }
    }

    /// <summary>Gives every right and buffer back, exactly once. Peers see our port die.</summary>
    private unsafe void Release()
    {
        lock (_lock)
        {
            if (_released)
            {
                return;
            }

            _released = true;
        }

        _loop.Unregister(_port);
        _port.Dispose();
        _loop.UnwatchDeadName(_peerName);
        lock (_lock)
        {
            _peer.Dispose();
            if (_deadNameReferenceHeld)
            {
                _kernel.Deallocate(_peerName);
            }

            NativeMemory.Free(_controlBuffer);
            _controlBuffer = null;
            if (!_sendLoopStarted)
            {
                FreeSendBuffer();
            }
        }

        CompleteInput(new ConnectionAbortedException("The Mach connection was disposed."));
        FireClosed();
        MachTransportLog.ConnectionReleased(_logger, Id);
        _onReleased?.Invoke(this);
    }
}
