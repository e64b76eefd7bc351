namespace MachTransport.Channel;

/// <summary>
/// What this side may still send: the window it uses (the peer's, no larger than our own), less what was sent, plus
/// what its CREDIT messages gave back. The peer can never grant beyond that window: it grants only what it received.
/// </summary>
internal struct SendCredit(MachWindow window)
{
    private long _bytes = window.Bytes;
    private long _messages = window.Messages;

    public readonly bool CanSend => _bytes > 0 && _messages > 0;

    /// <summary>Debits one message of up to <paramref name="available"/> bytes and returns its size.</summary>
    public long Take(long available)
    {
        long count = Math.Min(available, _bytes);
        _bytes -= count;
        _messages--;
        return count;
    }

    /// <summary>Adds a CREDIT; false (and nothing added) if it would exceed the window the peer announced.</summary>
    public bool TryAdd(uint bytes, uint messages)
    {
        if (_bytes + bytes > window.Bytes || _messages + messages > window.Messages)
        {
            return false;
        }

        _bytes += bytes;
        _messages += messages;
        return true;
    }
}

/// <summary>
/// What the peer may still send us, and what has been consumed here since the last CREDIT and is owed back to it.
/// CREDIT goes out once a quarter of either window of <paramref name="grantWindow"/> is owed (docs/protocol.md), not
/// per read: the smaller of both sides' windows, all a well-behaved peer keeps in flight.
/// </summary>
internal struct ReceiveCredit(ChannelSettings settings, MachWindow grantWindow)
{
    private long _peerBytes = settings.ByteWindow;
    private long _peerMessages = settings.MessageWindow;
    private long _owedBytes;
    private long _owedMessages;

    /// <summary>A CREDIT that found the peer's queue full waits for its retry; no other goes out meanwhile.</summary>
    public bool RetryScheduled { get; set; }

    public readonly bool IsDue => _owedBytes >= Math.Max(1, grantWindow.Bytes / 4) || _owedMessages >= Math.Max(1, grantWindow.Messages / 4);

    public readonly uint OwedBytes => (uint)_owedBytes;

    public readonly uint OwedMessages => (uint)_owedMessages;

    /// <summary>Charges one DATA message of <paramref name="length"/> bytes; a violation text if the peer had no such credit.</summary>
    public string? Charge(int length)
    {
        if (length > _peerBytes || _peerMessages < 1)
        {
            return $"DATA of {length} bytes exceeds the credit ({_peerBytes} bytes, {_peerMessages} messages)";
        }

        _peerBytes -= length;
        _peerMessages--;
        _owedMessages++;
        return null;
    }

    /// <summary>Bytes the reader consumed (or that nobody will read) become owed to the peer.</summary>
    public void Consumed(long bytes) => _owedBytes += bytes;

    /// <summary>The owed credit was sent: the peer may send that much more.</summary>
    public void Granted()
    {
        _peerBytes += _owedBytes;
        _peerMessages += _owedMessages;
        _owedBytes = 0;
        _owedMessages = 0;
    }
}
