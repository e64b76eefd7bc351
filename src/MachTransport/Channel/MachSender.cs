using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;

namespace MachTransport.Channel;

/// <summary>
/// Everything a channel sends goes through here: it owns the send right to the peer's port and the buffers, sends
/// without ever blocking (a full queue hands back what the message carried), retries a
/// full queue with a short backoff, and refuses to send once stopped, because after release the peer's name may
/// already belong to another right.
/// </summary>
internal sealed class MachSender : IDisposable
{
    private const MachMsgOption SendOptions = MachMsgOption.SendMsg | MachMsgOption.SendTimeout;
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMilliseconds(16);

    private readonly IMachKernel _kernel;
    private readonly MachSendRight _peer;
    private readonly int _inlineLimit;
    private readonly int _dataCapacity;
    private readonly Lock _lock = new();
    private unsafe byte* _controlBuffer;
    private bool _stopped;
    private bool _disposed;
    private bool _deadNameReferenceHeld;

    public unsafe MachSender(IMachKernel kernel, MachSendRight peer, int inlineLimit)
    {
        _kernel = kernel;
        _peer = peer;
        PeerName = peer.Name;
        _inlineLimit = inlineLimit;
        _dataCapacity = MachCodec.DataMessageCapacity(inlineLimit);
        _controlBuffer = (byte*)NativeMemory.Alloc(MachProtocol.MaxControlMessage);
    }

    /// <summary>The peer's port in this task (tests use it to play a hostile peer).</summary>
    public uint PeerName { get; }

    public bool IsStopped
    {
        get
        {
            lock (_lock)
            {
                return _stopped;
            }
        }
    }

    /// <summary>
    /// Sends a message now without blocking. A full queue (<see cref="MachMsgReturn.SendTimedOut"/>) leaves the message
    /// with us, rights and memory included: they are handed back, so nothing leaks, and the caller may build it again.
    /// </summary>
    public static unsafe MachMsgReturn SendNow(IMachKernel kernel, byte* message, int size, int capacity)
        => SendNow(kernel, message, size, capacity, out _);

    /// <summary>Sends REJECT to <paramref name="client"/> without waiting; a full queue loses it (the client's timeout covers that).</summary>
    public static unsafe void SendReject(IMachKernel kernel, uint client, MachCloseReason reason, string text)
    {
        byte* buffer = stackalloc byte[MachProtocol.MaxControlMessage];
        int size = MachCodec.WriteReject(new Span<byte>(buffer, MachProtocol.MaxControlMessage), client, reason, text);
        _ = SendNow(kernel, buffer, size, MachProtocol.MaxControlMessage);
    }

    public bool IsInline(long length) => length <= _inlineLimit;

    /// <summary>Sends one DATA message: inline up to the inline limit, else out of line.</summary>
    public MachMsgReturn SendData(in ReadOnlySequence<byte> payload) => IsInline(payload.Length) ? SendInline(payload) : SendOutOfLine(payload);

    public MachMsgReturn SendAccept(uint connectionPort, MachWindow window)
    {
        lock (_lock)
        {
            return _stopped ? MachMsgReturn.SendInvalidDest : SendControl(MachCodec.WriteAccept(ControlBuffer, PeerName, connectionPort, window));
        }
    }

    public MachMsgReturn SendCredit(uint bytes, uint messages)
    {
        lock (_lock)
        {
            return _stopped ? MachMsgReturn.SendInvalidDest : SendControl(MachCodec.WriteCredit(ControlBuffer, PeerName, bytes, messages));
        }
    }

    public MachMsgReturn SendFin()
    {
        lock (_lock)
        {
            return _stopped ? MachMsgReturn.SendInvalidDest : SendControl(MachCodec.WriteFin(ControlBuffer, PeerName));
        }
    }

    /// <summary>Sends ABORT (best effort: a full queue loses it, the peer learns from our port's death) and stops sending.</summary>
    public void Abort(MachCloseReason reason)
    {
        lock (_lock)
        {
            if (!_stopped && reason != MachCloseReason.None)
            {
                _ = SendControl(MachCodec.WriteAbort(ControlBuffer, PeerName, reason));
            }

            _stopped = true;
        }
    }

    /// <summary>A failed send's result for an error message; a resource shortage says what is short.</summary>
    public string Explain(MachMsgReturn result)
        => result == MachMsgReturn.SendNoBuffer ? $"{MachException.Describe(result)}: {_kernel.ResourceShortageReason}" : MachException.Describe(result);

    /// <summary>
    /// Sends with <paramref name="send"/> until the peer's queue takes the message: a full queue is retried after
    /// 1 ms, doubling up to 16 ms, for at most <paramref name="limit"/> (then the full queue's result is returned); a
    /// resource shortage the same way for up to <see cref="ResourceShortage.Retry"/>, then it is the result. Once stopped
    /// it gives up with <see cref="MachMsgReturn.SendInvalidDest"/>.
    /// </summary>
    public async ValueTask<MachMsgReturn> SendWhenRoomAsync<TState>(Func<MachSender, TState, MachMsgReturn> send, TState state, TimeSpan limit)
    {
        TimeSpan delay = FirstRetryDelay;
        long start = Stopwatch.GetTimestamp();
        var shortage = default(ResourceShortage);
        while (true)
        {
            MachMsgReturn result = send(this, state);
            if (result is not (MachMsgReturn.SendTimedOut or MachMsgReturn.SendNoBuffer))
            {
                return result;
            }

            if (shortage.LastedTooLong(result))
            {
                return result;
            }

            if (IsStopped)
            {
                return MachMsgReturn.SendInvalidDest;
            }

            if (limit != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(start) >= limit)
            {
                return result;
            }

            await Task.Delay(delay).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    /// <summary>
    /// Takes over the extra reference a dead-name notification brought to the peer's name, to release with the
    /// send right; false once disposed (the caller releases it then).
    /// </summary>
    public bool AdoptDeadNameReference()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return false;
            }

            _deadNameReferenceHeld = true;
            return true;
        }
    }

    /// <summary>Stops sending for good and gives back the send right and the buffer.</summary>
    public unsafe void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = _stopped = true;
            _peer.Dispose();
            if (_deadNameReferenceHeld)
            {
                _kernel.Deallocate(PeerName);
            }

            NativeMemory.Free(_controlBuffer);
            _controlBuffer = null;
        }
    }

    private unsafe Span<byte> ControlBuffer => new(_controlBuffer, MachProtocol.MaxControlMessage);

    private static unsafe MachMsgReturn SendNow(IMachKernel kernel, byte* message, int size, int capacity, out ulong unsentRegion)
    {
        unsentRegion = 0;
        MachMsgReturn result = kernel.MachMsg(message, SendOptions, (uint)size, 0, 0, 0).WithoutSpecialBits();
        if (result == MachMsgReturn.SendTimedOut)
        {
            unsentRegion = MachMessageDisposal.ReclaimUnsent(kernel, new Span<byte>(message, capacity));
        }

        return result;
    }

    private unsafe MachMsgReturn SendControl(int size) => SendNow(_kernel, _controlBuffer, size, MachProtocol.MaxControlMessage);

    /// <summary>
    /// The message is built in a pooled array, not a buffer per connection: an idle connection then holds no send
    /// buffer at all, and renting costs no allocation.
    /// </summary>
    private unsafe MachMsgReturn SendInline(in ReadOnlySequence<byte> payload)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_dataCapacity);
        try
        {
            int size = MachCodec.WriteInlineData(buffer, PeerName, payload);
            fixed (byte* message = buffer)
            {
                lock (_lock)
                {
                    return _stopped ? MachMsgReturn.SendInvalidDest : SendNow(_kernel, message, size, buffer.Length);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Sends the payload as a copied (not moved) region from a pooled array: the send is synchronous and the kernel
    /// takes its own copy before mach_msg returns (Linux: written into the destination's OOL ring, or beyond 1 MiB or
    /// with the ring full into a sealed memfd; Darwin: a virtual copy), so the array goes back to the pool at once. A fresh VM region per message cost a
    /// mapping, a page fault per page and, on Linux, the remap needed to seal it.
    /// </summary>
    private unsafe MachMsgReturn SendOutOfLine(in ReadOnlySequence<byte> payload)
    {
        int length = checked((int)payload.Length);
        byte[] staging = ArrayPool<byte>.Shared.Rent(length);
        const int Capacity = MachCodec.OutOfLineDataCapacity;
        byte* message = stackalloc byte[Capacity];
        try
        {
            payload.CopyTo(staging);
            fixed (byte* bytes = staging)
            {
                int size = MachCodec.WriteOutOfLineData(new Span<byte>(message, Capacity), PeerName, (ulong)bytes, (uint)length);
                MachMsgReturn result;
                ulong unsentRegion = 0;
                lock (_lock)
                {
                    result = _stopped ? MachMsgReturn.SendInvalidDest : SendNow(_kernel, message, size, Capacity, out unsentRegion);
                }

                // Darwin hands an unsent copy back as a region of its own (mach-abi.md §5.5); the emulation, our array.
                if (unsentRegion != 0 && unsentRegion != (ulong)bytes)
                {
                    _ = _kernel.VmDeallocate(unsentRegion, (ulong)length);
                }

                return result;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(staging);
        }
    }
}
