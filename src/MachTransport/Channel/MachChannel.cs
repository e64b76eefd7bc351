using System.Buffers;
using System.IO.Pipelines;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>
/// A duplex byte stream over a pair of ports: our receive right (registered on a <see cref="MachReceiveLoop"/>) and a
/// send right to the peer's port, held by the <see cref="MachSender"/>. This file holds the connection's state and
/// lifetime; MachChannel.Receive.cs takes inbound messages apart into the input pipe, MachChannel.Send.cs drains the
/// output pipe into DATA within the peer's credit. A violation by the peer aborts only this channel.
/// </summary>
internal sealed partial class MachChannel : IDuplexPipe, IMachPortHandler, IAsyncDisposable
{
    private static long s_nextId;

    private readonly IMachKernel _kernel;
    private readonly MachReceiveLoop _loop;
    private readonly MachReceiveRight _port;
    private readonly MachSender _sender;
    private readonly ChannelSettings _settings;
    private readonly ILogger _logger;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly ChannelInputReader _inputReader;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _closed = new();
    private Action<MachChannel>? _onReleased;
    private Task _sendLoop = Task.CompletedTask;
    private int _disposed;
    private int _closedFired;
    private int _closedDoneWith;

    // Under _lock.
    private MachChannelState _state;
    private MachInputState _inputState;
    private SendCredit _sendCredit;
    private ReceiveCredit _receiveCredit;
    private TaskCompletionSource? _creditWaiter;

    public MachChannel(
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
        _settings = settings;
        _logger = settings.Logger;
        Peer = peerIdentity;
        Id = $"{side}-{Environment.ProcessId:x}-{Interlocked.Increment(ref s_nextId):x}";
        _sender = new MachSender(_kernel, peer, (int)Math.Min((uint)settings.InlineThreshold, peerWindow.MaxInline));
        // Neither direction keeps more in flight than the smaller of the two windows: what the peer announced is only
        // its wish, and each side grants CREDIT at a quarter of that smaller window, so neither waits for the other.
        MachWindow own = MachWindow.From(settings);
        _sendCredit = new SendCredit(peerWindow.Within(own));
        _receiveCredit = new ReceiveCredit(settings, own.Within(peerWindow));
        _input = new Pipe(settings.InputPipeOptions);
        _output = new Pipe(settings.OutputPipeOptions);
        _inputReader = new ChannelInputReader(_input.Reader, this);
        Closed = _closed.Token;
    }

    public string Id { get; }

    public MachPeerIdentity Peer { get; }

    /// <summary>The name of the peer's port in this task (tests use it to play a hostile peer).</summary>
    public uint PeerPortName => _sender.PeerName;

    /// <summary>The name of this side's own receive port (tests hand a send right to it to another process).</summary>
    public uint PortName => _port.Name;

    public PipeReader Input => _inputReader;

    public PipeWriter Output => _output.Writer;

    public MemoryPool<byte> MemoryPool => _settings.MemoryPool;

    /// <summary>The settings the connection was made with (shared by the listener's or client factory's connections).</summary>
    internal ChannelSettings Settings => _settings;

    /// <summary>The log of the listener or client factory that made the connection: the loop logs this port's failures there too.</summary>
    public ILogger Logger => _logger;

    /// <summary>Cancelled once the channel is closed: peer gone, aborted, or released (readable after its source is disposed).</summary>
    public CancellationToken Closed { get; }

    /// <summary>Starts routing and sending: registers the port, watches the peer, starts the send loop.</summary>
    public bool Start(Action<MachChannel>? onReleased)
    {
        _onReleased = onReleased;
        _loop.Register(_port, this);
        if (!_loop.WatchDeadName(_sender.PeerName, this))
        {
            return false;
        }

        MachTransportLog.ConnectionEstablished(_logger, Id, Peer.Pid, Peer.Uid, Peer.Gid);
        _sendLoop = SendLoopAsync();
        return true;
    }

    /// <summary>Sends ACCEPT carrying a send right to our port (server side of the handshake, before any DATA).</summary>
    public MachMsgReturn SendAccept() => _sender.SendAccept(_port.Name, MachWindow.From(_settings));

    /// <summary>Closes both directions now: tells the peer (ABORT), fails pending reads with <paramref name="inputError"/>.</summary>
    public void Abort(string reason, Exception? inputError = null) => AbortCore(reason, MachCloseReason.LocalAbort, inputError);

    public void OnDeadName(uint deadName)
    {
        bool released;
        lock (_lock)
        {
            released = _state == MachChannelState.Released;
        }

        if (released || !_sender.AdoptDeadNameReference())
        {
            _kernel.Deallocate(deadName);
            return;
        }

        // Messages the peer sent before it died are still queued on our port: deliver them first.
        _loop.Drain(_port);
        MachTransportLog.PeerDied(_logger, Id);
        AbortCore("the peer's port died", MachCloseReason.None, new ConnectionResetException("The Mach peer closed the connection or its process exited."));

        // Nothing can travel any more: give the ports back now, not when the application finishes its requests.
        Release();
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

    private void ProtocolError(string reason)
    {
        MachTransportLog.ProtocolError(_logger, Id, reason);
        _settings.Metrics.ProtocolError();
        AbortCore(reason, MachCloseReason.ProtocolError, new ConnectionResetException($"The Mach peer violated the protocol: {reason}"));
    }

    /// <summary>Open to Aborted: the peer gets ABORT with <paramref name="sendReason"/> unless it is None (it left first).</summary>
    private void AbortCore(string reason, MachCloseReason sendReason, Exception? inputError)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (_state != MachChannelState.Open)
            {
                return;
            }

            _state = MachChannelState.Aborted;
            waiter = _creditWaiter;
            _creditWaiter = null;
            _sender.Abort(sendReason);
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
            if (_inputState == MachInputState.Completed)
            {
                return;
            }

            _inputState = MachInputState.Completed;
            _input.Writer.Complete(error);
        }
    }

    private void FireClosed()
    {
        if (Interlocked.Exchange(ref _closedFired, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.CancelQuietly(), this, preferLocal: false);
        }
    }

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

        DoneWithClosed();
    }

    /// <summary>Disposes the Closed source once it was cancelled and the channel released, whichever comes last.</summary>
    private void DoneWithClosed()
    {
        if (Interlocked.Increment(ref _closedDoneWith) == 2)
        {
            _closed.Dispose();
        }
    }

    /// <summary>To Released: gives every right and buffer back, exactly once. Peers see our port die.</summary>
    private void Release()
    {
        lock (_lock)
        {
            if (_state == MachChannelState.Released)
            {
                return;
            }

            _state = MachChannelState.Released;
        }

        _loop.Unregister(_port);
        _port.Dispose();
        _loop.UnwatchDeadName(_sender.PeerName);
        _sender.Dispose();
        CompleteInput(new ConnectionAbortedException("The Mach connection was disposed."));
        FireClosed();
        DoneWithClosed();
        MachTransportLog.ConnectionReleased(_logger, Id);
        _onReleased?.Invoke(this);
    }
}
