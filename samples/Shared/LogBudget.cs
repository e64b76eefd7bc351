// Shared by the samples (linked into each project): a budget of log lines for events a peer can cause at will, so
// that one hostile client cannot flood the server's log while the first refusals stay visible.
namespace MachTransport.Samples;

/// <summary>At most <c>linesPerWindow</c> lines per <c>window</c>; the events beyond are counted and reported with the next line allowed.</summary>
internal sealed class LogBudget(int linesPerWindow, TimeSpan window, TimeProvider? time = null)
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _windowStart = long.MinValue;
    private int _lines;
    private long _suppressed;

    /// <summary>True when this event may be logged; <paramref name="suppressedBefore"/> is how many were not since the last line.</summary>
    public bool TryTake(out long suppressedBefore)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_windowStart == long.MinValue || _time.GetElapsedTime(_windowStart, now) >= window)
            {
                _windowStart = now;
                _lines = 0;
            }

            if (_lines < linesPerWindow)
            {
                _lines++;
                suppressedBefore = _suppressed;
                _suppressed = 0;
                return true;
            }

            _suppressed++;
            suppressedBefore = 0;
            return false;
        }
    }
}
