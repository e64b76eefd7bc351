using MachTransport.Mach.Messages;

namespace MachTransport.Channel;

/// <summary>
/// The dead-name watch on a service's port for every <see cref="MachConnector"/> connect waiting for its answer. A
/// task holds all its send rights to one port under one name, so concurrent connects to one service share the name,
/// and a receive loop watches a name for one handler only: this is that handler, and it tells each waiting connect.
/// (Each connect watching for itself, all but the first waited their whole connect timeout for a server that died.)
/// </summary>
internal sealed class MachServiceDeathWatch : IMachPortHandler
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<(MachReceiveLoop Loop, uint Service), MachServiceDeathWatch> s_watches = [];

    private readonly MachReceiveLoop _loop;
    private readonly uint _service;
    private readonly List<MachPendingConnect> _waiting = []; // under s_lock

    private MachServiceDeathWatch(MachReceiveLoop loop, uint service)
    {
        _loop = loop;
        _service = service;
    }

    /// <summary>
    /// Tells <paramref name="pending"/> when the port named <paramref name="service"/> dies (arming the watch for the
    /// first connect waiting on it); false if the watch could not be armed.
    /// </summary>
    public static bool Join(MachReceiveLoop loop, uint service, MachPendingConnect pending)
    {
        lock (s_lock)
        {
            if (!s_watches.TryGetValue((loop, service), out MachServiceDeathWatch? watch))
            {
                watch = new MachServiceDeathWatch(loop, service);
                if (!loop.WatchDeadName(service, watch))
                {
                    return false;
                }

                s_watches.Add((loop, service), watch);
            }

            watch._waiting.Add(pending);
            return true;
        }
    }

    /// <summary>Stops telling <paramref name="pending"/>; the last connect to leave disarms the watch.</summary>
    public static void Leave(MachReceiveLoop loop, uint service, MachPendingConnect pending)
    {
        lock (s_lock)
        {
            if (s_watches.TryGetValue((loop, service), out MachServiceDeathWatch? watch) && watch._waiting.Remove(pending) && watch._waiting.Count == 0)
            {
                s_watches.Remove((loop, service));
                loop.UnwatchDeadName(service);
            }
        }
    }

    /// <summary>The service's port died: every connect waiting on it fails now.</summary>
    public void OnDeadName(uint deadName)
    {
        MachPendingConnect[] waiting = TakeWaiting();
        _loop.Kernel.Deallocate(deadName); // the notification's reference; each connect still holds its own
        foreach (MachPendingConnect pending in waiting)
        {
            pending.OnServiceDied();
        }
    }

    /// <summary>Never registered for a port of its own: nothing arrives here.</summary>
    public void OnMessage(in MachMessageReader message) => MachMessageDisposal.Destroy(_loop.Kernel, message);

    /// <summary>
    /// The loop stopped, or telling the connects threw: those still waiting fail now (one cancelled meanwhile, whose
    /// port is already gone, is left alone).
    /// </summary>
    public void OnFailed(Exception error)
    {
        foreach (MachPendingConnect pending in TakeWaiting())
        {
            pending.OnWatchFailed(error);
        }
    }

    /// <summary>The connects waiting now; a connect that joins later arms a watch of its own (on a dead name it fires at once).</summary>
    private MachPendingConnect[] TakeWaiting()
    {
        lock (s_lock)
        {
            if (s_watches.TryGetValue((_loop, _service), out MachServiceDeathWatch? current) && current == this)
            {
                s_watches.Remove((_loop, _service));
            }

            MachPendingConnect[] waiting = [.. _waiting];
            _waiting.Clear();
            return waiting;
        }
    }
}
