using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using MachTransport.Infrastructure;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>
/// One dedicated thread receiving on one port set and routing each message to the handler of the member port
/// it arrived on. Dead-name notifications come to a private notify port nobody else holds a right to, so they
/// cannot be forged. Stopped by a message to a private control port.
/// </summary>
internal sealed unsafe class MachReceiveLoop : IAsyncDisposable
{
    private const MachMsgOption ReceiveOptions = MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveLarge | MachMsgOption.ReceiveLargeIdentity | MachMsgOption.ReceiveTrailerAudit;

    // Without RCV_LARGE a message too large for the buffer is dequeued and destroyed; the timeout keeps a port that
    // was emptied meanwhile from blocking the loop.
    private const MachMsgOption DiscardOptions = MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveTrailerAudit | MachMsgOption.ReceiveTimeout;
    private const int StopMessageId = 0x4D54_00FF;

    /// <summary>Log category of the client loop's own events; they go to an EventSource (docs/protocol.md, "Where a client's events go").</summary>
    public const string ClientLoopCategory = "MachTransport.Client.ReceiveLoop";

    private static readonly Lazy<MachReceiveLoop> s_client = new(
        () => new MachReceiveLoop(MachKernel.Current, "client", ClientLoopLogger()));

    private readonly IMachKernel _kernel;
    private readonly ILogger _logger;
    private readonly MachPortSet _set;
    private readonly MachReceiveRight _control;
    private readonly MachSendRight _controlSend;
    private readonly MachReceiveRight _notify;
    private readonly ConcurrentDictionary<uint, IMachPortHandler> _ports = new();
    private readonly ConcurrentDictionary<uint, IMachPortHandler> _deadNames = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte* _buffer;
    private int _stopping;

    public MachReceiveLoop(IMachKernel kernel, string name, ILogger logger)
    {
        _kernel = kernel;
        _logger = logger;
        Name = name;
        _set = MachPortSet.Allocate(kernel);
        _control = MachReceiveRight.Allocate(kernel);
        _controlSend = _control.MakeSend();
        _notify = MachReceiveRight.Allocate(kernel);
        _set.Add(_control);
        _set.Add(_notify);
        _buffer = (byte*)NativeMemory.Alloc(MachProtocol.ReceiveBufferSize);
        _thread = new Thread(Run) { IsBackground = true, Name = $"Mach receive ({name})" };
        _thread.Start();
    }

    /// <summary>The loop every client connection of this process shares.</summary>
    public static MachReceiveLoop Client => s_client.Value;

    public string Name { get; }

    public IMachKernel Kernel => _kernel;

    /// <summary>
    /// The log of the client loop's events that belong to no connection (a message for a port nobody owns any more, the
    /// loop stopping). No client's factory owns the loop, and the latest one to connect may be gone, so they go to the
    /// "Microsoft-Extensions-Logging" EventSource, where <c>dotnet-trace</c>, <c>dotnet-monitor</c> or an in-process
    /// <c>EventListener</c> find them, as System.Net's own events are found. The factory lives as long as the process.
    /// A peer can cause them, so they share the clients' rate limit, as the clients' own logs do.
    /// </summary>
    private static RateLimitedLogger ClientLoopLogger() => new(
        LoggerFactory.Create(static logging => logging.SetMinimumLevel(LogLevel.Trace).AddEventSourceLogger()).CreateLogger(ClientLoopCategory),
        LogRateLimiter.Client);

    /// <summary>Routes messages arriving on <paramref name="port"/> to <paramref name="handler"/> (replacing any previous one).</summary>
    public void Register(MachReceiveRight port, IMachPortHandler handler)
    {
        bool added = _ports.TryAdd(port.Name, handler);
        _ports[port.Name] = handler;
        if (added)
        {
            _set.Add(port);
        }
    }

    /// <summary>Stops routing for <paramref name="port"/>; destroying the right afterwards also takes it out of the set.</summary>
    public void Unregister(MachReceiveRight port) => _ports.TryRemove(port.Name, out _);

    /// <summary>True if <paramref name="name"/> is one of the receive rights this loop serves, its own included.</summary>
    public bool Serves(uint name) => _ports.ContainsKey(name) || name == _control.Name || name == _notify.Name;

    /// <summary>Stops routing for <paramref name="port"/> and takes it out of the set, so another loop can take it.</summary>
    public void Release(MachReceiveRight port)
    {
        _ports.TryRemove(port.Name, out _);
        KernReturn result = _kernel.ExtractMember(port.Name, _set.Name);
        // A loop that stopped destroyed its set, and the kernel took every member out of it then.
        if (!_set.IsClosed)
        {
            MachException.ThrowIfFailed(result, "mach_port_extract_member");
        }
    }

    /// <summary>Asks for a dead-name notification on <paramref name="peer"/>; false if that name is already watched or the request failed.</summary>
    public bool WatchDeadName(uint peer, IMachPortHandler handler)
    {
        if (!_deadNames.TryAdd(peer, handler))
        {
            return false;
        }

        KernReturn result = _kernel.RequestNotification(peer, MachNotifyId.DeadName, 1, _notify.Name, MachMsgTypeName.MakeSendOnce, out uint previous);
        if (MachPort.IsValid(previous))
        {
            _kernel.Deallocate(previous);
        }

        if (result != KernReturn.Success)
        {
            _deadNames.TryRemove(peer, out _);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Stops watching <paramref name="peer"/>. True if the watch was still armed (no notification delivered); the
    /// caller then owns no extra reference, and the kernel's PORT_DELETED notice that follows is ignored here.
    /// </summary>
    public bool UnwatchDeadName(uint peer) => _deadNames.TryRemove(peer, out _);

    /// <summary>Stops the thread and waits for it (5 s at most) without holding the caller's thread meanwhile.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        SendStop();
        // On its own thread (a handler disposing it) the loop ends once that handler returns. A handler that keeps the
        // thread longer than 5 s does not keep the caller: the thread ends on its own when the handler returns.
        return Thread.CurrentThread == _thread ? ValueTask.CompletedTask : new ValueTask(_ended.Task.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(
            static waited => _ = waited.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
    }

    private bool Stopping => Volatile.Read(ref _stopping) != 0;

    private void SendStop()
    {
        // A loop that stopped on its own released the control right: its name may belong to another right by now.
        bool held = false;
        try
        {
            _controlSend.DangerousAddRef(ref held);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        try
        {
            byte* stop = stackalloc byte[MachProtocol.MaxControlMessage];
            var writer = new MachMessageWriter(new Span<byte>(stop, MachProtocol.MaxControlMessage), StopMessageId, _controlSend.Name, MachMsgTypeName.CopySend);
            int size = writer.Complete();
            MachMsgReturn sent = MachSender.SendNow(_kernel, stop, size, MachProtocol.MaxControlMessage);
            if (sent != MachMsgReturn.Success)
            {
                // The control queue cannot be full (one message ever); destroying the set wakes the thread instead.
                _set.Dispose();
            }
        }
        finally
        {
            _controlSend.DangerousRelease();
        }
    }

    private void Run()
    {
        try
        {
            while (ReceiveOne(_set.Name))
            {
            }
        }
        finally
        {
            // Stopped unexpectedly, the loop leaves its connections unable to hear anything again: they fail now, so
            // that whatever awaits them (Kestrel's processing of each) ends instead of waiting forever.
            var stopped = Stopping ? null : new IOException($"The Mach receive loop '{Name}' stopped unexpectedly.");
            foreach (uint peer in _deadNames.Keys)
            {
                if (_deadNames.TryRemove(peer, out IMachPortHandler? handler) && stopped is not null)
                {
                    Fail(handler, peer, stopped);
                }
            }

            _set.Dispose();
            _notify.Dispose();
            _controlSend.Dispose();
            _control.Dispose();
            NativeMemory.Free(_buffer);
            _buffer = null;
            _ended.SetResult();
        }
    }

    /// <summary>Receives and routes one message from <paramref name="source"/>; false when the loop must end.</summary>
    private bool ReceiveOne(uint source, MachMsgOption extra = MachMsgOption.None)
    {
        MachMsgHeader* header = (MachMsgHeader*)_buffer;
        header->LocalPort = MachPort.Null;
        MachMsgReturn result = _kernel.MachMsg(_buffer, ReceiveOptions | extra, 0, MachProtocol.ReceiveBufferSize, source, 0).WithoutSpecialBits();
        if (result == MachMsgReturn.ReceiveTooLarge)
        {
            // The buffer holds every message the protocol allows, so a larger one is a violation. It stays queued
            // (RCV_LARGE) on the member LARGE_IDENTITY names (mach-abi.md §5.4): received again from that port alone
            // without RCV_LARGE, the kernel destroys it and hands back its bare header, routed as undeliverable.
            // Receiving on the set instead could take, or destroy, another connection's message.
            uint member = MachPort.IsValid(header->LocalPort) ? header->LocalPort : source;
            result = _kernel.MachMsg(_buffer, DiscardOptions, 0, MachProtocol.ReceiveBufferSize, member, 0).WithoutSpecialBits();
            if (result is not (MachMsgReturn.Success or MachMsgReturn.ReceiveTooLarge or MachMsgReturn.ReceiveHeaderError or MachMsgReturn.ReceiveBodyError))
            {
                return true; // the port went away, and its message with it
            }
        }

        return result switch
        {
            MachMsgReturn.Success => Route(),
            MachMsgReturn.ReceiveTooLarge or MachMsgReturn.ReceiveHeaderError or MachMsgReturn.ReceiveBodyError => RouteUndeliverable(),
            MachMsgReturn.ReceiveTimedOut => false,
            MachMsgReturn.ReceiveInterrupted => true,
            _ => Stopped(result, source),
        };
    }

    private bool Stopped(MachMsgReturn result, uint source)
    {
        // A drain of one port ends quietly when that port is destroyed meanwhile; only the set's loop matters.
        if (!Stopping && source == _set.Name)
        {
            MachTransportLog.ReceiveLoopFailed(_logger, Name, MachException.Describe(result));
        }

        return false;
    }

    /// <summary>
    /// A message the kernel would not deliver (too large, or a datagram the Linux emulation refused): what comes
    /// back is a bare header naming the port, then the trailer naming the sender. It is routed as an empty message
    /// with no id (the protocol uses none), so the port's owner treats it as the violation it is and the loop goes
    /// on for everyone else.
    /// </summary>
    private bool RouteUndeliverable()
    {
        MachMsgHeader* header = (MachMsgHeader*)_buffer;
        *header = new MachMsgHeader { Size = (uint)sizeof(MachMsgHeader), LocalPort = header->LocalPort };
        return Route();
    }

    private bool Route()
    {
        var span = new ReadOnlySpan<byte>(_buffer, MachProtocol.ReceiveBufferSize);
        if (!MachMessageReader.TryCreate(span, out MachMessageReader message, out _))
        {
            return true;
        }

        uint local = message.Header.LocalPort;
        if (local == _control.Name)
        {
            MachMessageDisposal.Destroy(_kernel, message);
            return !Stopping;
        }

        if (local == _notify.Name)
        {
            OnNotification(message);
            return true;
        }

        if (_ports.TryGetValue(local, out IMachPortHandler? handler))
        {
            try
            {
                handler.OnMessage(message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Fail(handler, local, ex);
            }
        }
        else
        {
            MachTransportLog.UnroutedMessage(_logger, Name, message.Id, local);
            MachMessageDisposal.Destroy(_kernel, message);
        }

        return true;
    }

    private void OnNotification(in MachMessageReader message)
    {
        if (message.Id != MachNotifyId.DeadName || message.Message.Length < Marshal.SizeOf<MachDeadNameNotification>())
        {
            // PORT_DELETED after an unwatch, or a send-once notice: nothing to release beyond the message itself.
            MachMessageDisposal.Destroy(_kernel, message);
            return;
        }

        uint dead = MemoryMarshal.Read<MachDeadNameNotification>(message.Message).NotPort;
        if (!_deadNames.TryRemove(dead, out IMachPortHandler? handler))
        {
            // The connection let the name go after the port died: only the notification's reference is left.
            _kernel.Deallocate(dead);
            return;
        }

        try
        {
            handler.OnDeadName(dead);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Fail(handler, dead, ex);
        }
    }

    /// <summary>A handler threw on this thread: it gives up what it serves; the loop goes on for everyone else.</summary>
    private void Fail(IMachPortHandler handler, uint port, Exception error)
    {
        ILogger logger = handler.Logger ?? _logger;
        MachTransportLog.HandlerFailed(logger, error, Name, port);
        try
        {
            handler.OnFailed(error);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MachTransportLog.HandlerFailed(logger, ex, Name, port);
        }
    }

    /// <summary>
    /// Delivers every message still queued on <paramref name="port"/> to its handler (called on this thread when
    /// the peer died, so no DATA or FIN it sent before dying is lost behind the notification).
    /// </summary>
    public void Drain(MachReceiveRight port)
    {
        while (!port.IsClosed && ReceiveOne(port.Name, MachMsgOption.ReceiveTimeout))
        {
        }
    }
}
