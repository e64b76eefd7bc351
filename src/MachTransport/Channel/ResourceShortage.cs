using MachTransport.Mach.Abi;

namespace MachTransport.Channel;

/// <summary>
/// How long the sends of one message have found the system short of resources (MACH_SEND_NO_BUFFER) in a row: such a
/// send is retried for at most <see cref="Retry"/>, then the shortage is its result. Any other result starts over.
/// </summary>
internal struct ResourceShortage
{
    /// <summary>How long a send short of resources is retried before it fails.</summary>
    public static readonly TimeSpan Retry = TimeSpan.FromSeconds(5);

    private long _since;

    /// <summary>Notes the result of a try; true once the shortage has lasted <see cref="Retry"/> (give up).</summary>
    public bool LastedTooLong(MachMsgReturn result)
    {
        if (result != MachMsgReturn.SendNoBuffer)
        {
            _since = 0;
            return false;
        }

        long now = Environment.TickCount64;
        _since = _since == 0 ? now : _since;
        return now - _since >= Retry.TotalMilliseconds;
    }
}
