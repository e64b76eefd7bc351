namespace MachTransport.Infrastructure;

/// <summary>
/// Bounds the log lines each kind of event (by event id) can produce: at most <see cref="LinesPerSecond"/> in a
/// one-second window, the rest are counted; the first line of a later window reports that count. Allocation-free,
/// thread-safe; shared by everything one side's peers can reach (a server's listeners, or all clients of a process).
/// </summary>
internal sealed class LogRateLimiter
{
    public const int LinesPerSecond = 10;

    private const int WindowMilliseconds = 1000;
    private const int Kinds = 32;

    /// <summary>The limiter of every client connection in this process (their receive loop is process-wide too).</summary>
    public static readonly LogRateLimiter Client = new();

    private readonly Lock _lock = new();
    private readonly Window[] _windows = new Window[Kinds];

    public LogRateLimiter()
    {
        long expired = Environment.TickCount64 - WindowMilliseconds;
        for (int i = 0; i < _windows.Length; i++)
        {
            _windows[i].Start = expired;
        }
    }

    /// <summary>
    /// True if an event of <paramref name="kind"/> may be logged now; <paramref name="suppressed"/> is how many of
    /// that kind were dropped since the last one logged (to be reported first).
    /// </summary>
    public bool TryEnter(int kind, out int suppressed)
    {
        long now = Environment.TickCount64;
        lock (_lock)
        {
            ref Window window = ref _windows[(uint)kind % Kinds];
            if (now - window.Start >= WindowMilliseconds)
            {
                suppressed = window.Suppressed;
                window = new Window { Start = now, Lines = 1 };
                return true;
            }

            suppressed = 0;
            if (window.Lines < LinesPerSecond)
            {
                window.Lines++;
                return true;
            }

            window.Suppressed++;
            return false;
        }
    }

    private struct Window
    {
        public long Start;
        public int Lines;
        public int Suppressed;
    }
}
