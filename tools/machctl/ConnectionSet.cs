// The joined connections of one bridge or expose process, so shutdown can wait for them, then abort the rest.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MachTransport.Tools;

/// <summary>Tracks running connection tasks; <see cref="DrainAsync"/> is the shutdown grace period.</summary>
internal sealed class ConnectionSet(ILogger logger) : IDisposable
{
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private readonly CancellationTokenSource _abort = new();
    private long _nextId;

    /// <summary>Cancelled when the grace period is over: every connection still open is reset.</summary>
    public CancellationToken AbortToken => _abort.Token;

    public int Count => _running.Count;

    /// <summary>Runs <paramref name="connection"/> (given its id) in the background until it ends.</summary>
    public void Start(Func<long, Task> connection)
    {
        long id = Interlocked.Increment(ref _nextId);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _running[id] = ended.Task;
        _ = Task.Run(async () =>
        {
            try
            {
                await connection(id);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A defect in one connection's handling ends that connection only.
                Log.ConnectionFailed(logger, ex, id);
            }
            finally
            {
                _running.TryRemove(id, out _);
                ended.SetResult();
            }
        });
    }

    /// <summary>Waits up to <paramref name="grace"/> for the open connections, then resets those left.</summary>
    public async Task DrainAsync(TimeSpan grace)
    {
        Log.ShuttingDown(logger, grace.TotalSeconds, Count);
        Task all = Task.WhenAll(_running.Values);
        if (await Task.WhenAny(all, Task.Delay(grace)) == all)
        {
            return;
        }

        Log.GraceExpired(logger);
        await _abort.CancelAsync();
        await Task.WhenAll(_running.Values);
    }

    public void Dispose() => _abort.Dispose();
}
