using System.Collections.Concurrent;
using MachTransport.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace MachTransport.Server;

/// <summary>
/// Checks every second that look-ups of a listener's service name still reach its port. On the Linux emulation a
/// name is files in the registry directory, which any process of the user can remove or replace; new clients then
/// reach another server or none while this one looks healthy. A lost name is logged at Error once and makes the
/// transport's health check (<see cref="CheckHealth"/>) unhealthy for as long as the listener lives.
/// </summary>
internal sealed class MachServiceNameWatch : IDisposable
{
    public const string HealthCheckName = "mach-service-names";

    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(1);
    private static readonly ConcurrentDictionary<MachServiceNameWatch, string> s_lost = new();

    private readonly Func<bool> _nameHeld;
    private readonly string _serviceName;
    private readonly ILogger _logger;
    private readonly Timer _timer;
    private readonly TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _lock = new();
    private bool _disposed;

    /// <summary>Starts checking; <paramref name="nameHeld"/> says whether look-ups still reach the listener's port.</summary>
    public MachServiceNameWatch(Func<bool> nameHeld, string serviceName, ILogger logger)
    {
        _nameHeld = nameHeld;
        _serviceName = serviceName;
        _logger = logger;
        _timer = new Timer(_ => Check(), null, s_interval, s_interval);
    }

    /// <summary>Completes when the name is found lost.</summary>
    public Task Lost => _lost.Task;

    /// <summary>The transport's health: unhealthy while a live listener's name leads elsewhere.</summary>
    public static HealthCheckResult CheckHealth()
    {
        string[] lost = [.. s_lost.Values.Order(StringComparer.Ordinal)];
        return lost.Length == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"New clients of Mach service {string.Join(", ", lost.Select(name => $"'{name}'"))} no longer reach this server: the name was removed or taken over by another process.");
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _ = s_lost.TryRemove(this, out _);
        }

        _timer.Dispose();
    }

    private void Check()
    {
        lock (_lock)
        {
            if (_disposed || _lost.Task.IsCompleted || _nameHeld())
            {
                return;
            }

            s_lost[this] = _serviceName;
        }

        _ = _timer.Change(Timeout.Infinite, Timeout.Infinite);
        MachTransportLog.ServiceNameLost(_logger, _serviceName);
        _lost.TrySetResult();
    }
}
