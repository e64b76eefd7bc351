namespace MachTransport.Mach.Linux;

/// <summary>
/// Holders' connections in this IPC space's ports, counted by the process that connected each (SO_PEERCRED), so that no
/// other process can make this one hold more than a bounded number of descriptors. A legitimate process has one
/// connection per port (its send rights merge under one name and one connection) and, for a moment, one more each time
/// it dropped its right and took it again before the receiver read the old connection's end-of-file. This process's own
/// connections are not counted: its code is trusted. Access is under the kernel's lock.
/// </summary>
internal sealed class HolderCounts
{
    /// <summary>Connections one other process may have in one port: its own, and room for taking its right again a few times.</summary>
    public const int PerPortPerProcess = 8;

    /// <summary>The floor of <see cref="PerProcess"/>, for a small descriptor table.</summary>
    private const int MinimumPerProcess = 64;

    /// <summary>A connection costs this process 8 descriptors, a legitimate peer holds 1 per connection: an eighth of the table.</summary>
    private const int TableShare = 8;

    private static readonly int s_ownPid = Libc.getpid();

    private readonly Dictionary<int, int> _byPid = [];

    public HolderCounts() => PerProcess = (int)Math.Max(DescriptorBudget.Limit / TableShare, MinimumPerProcess);

    /// <summary>
    /// Connections one other process may have in all of this space's ports together: an eighth of the descriptor table
    /// (RLIMIT_NOFILE when the kernel started), at least 64. Every legitimate peer stays below it: each of its
    /// connections costs this process 8 descriptors and it holds one holder's connection for each.
    /// </summary>
    public int PerProcess { get; }

    /// <summary>Whether connections of <paramref name="pid"/> are bounded (another process's).</summary>
    public static bool IsCounted(int pid) => pid != s_ownPid;

    public bool IsFull(int pid) => IsCounted(pid) && _byPid.GetValueOrDefault(pid) >= PerProcess;

    public void Add(int pid)
    {
        if (IsCounted(pid))
        {
            _byPid[pid] = _byPid.GetValueOrDefault(pid) + 1;
        }
    }

    public void Remove(int pid)
    {
        if (IsCounted(pid) && _byPid.TryGetValue(pid, out int count))
        {
            if (count <= 1)
            {
                _byPid.Remove(pid);
            }
            else
            {
                _byPid[pid] = count - 1;
            }
        }
    }
}
