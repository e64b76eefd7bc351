using Microsoft.Extensions.Logging;

namespace MachTransport.Infrastructure;

/// <summary>
/// The transport's logger: events a peer can cause (<see cref="MachTransportLog.IsPeerCaused"/>) pass through a
/// <see cref="LogRateLimiter"/>, so a fuzzing peer cannot flood the log even at Debug; everything else passes as is.
/// Filtered-out levels never reach the limiter (the generated log methods ask <see cref="IsEnabled"/> first).
/// </summary>
internal sealed class RateLimitedLogger(ILogger inner, LogRateLimiter limiter) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (MachTransportLog.IsPeerCaused(eventId.Id))
        {
            if (!limiter.TryEnter(eventId.Id, out int suppressed))
            {
                return;
            }

            if (suppressed > 0)
            {
                MachTransportLog.EventsSuppressed(inner, logLevel, suppressed, eventId.Name, LogRateLimiter.LinesPerSecond);
            }
        }

        inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
