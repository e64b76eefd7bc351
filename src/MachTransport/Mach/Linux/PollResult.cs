namespace MachTransport.Mach.Linux;

/// <summary>How a <see cref="Poll.Wait"/> ended.</summary>
internal enum PollResult
{
    /// <summary>The time ran out first.</summary>
    TimedOut,

    /// <summary>The descriptor has the events waited for (or poll failed: the next call on it reports why).</summary>
    Ready,

    /// <summary>The wake event was signalled.</summary>
    Woken,
}
