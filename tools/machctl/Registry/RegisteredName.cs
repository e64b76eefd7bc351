// One name of the Linux bootstrap namespace as "machctl list" reports it.
namespace MachTransport.Tools.Registry;

/// <summary>A name with the pid holding it (its lock's holder), or a stale entry nobody holds.</summary>
/// <param name="Name">The service name (from its lock file; a lock file that holds none shows its file name).</param>
/// <param name="Domain">"user" or "system".</param>
/// <param name="BasePath">The name's files without their extension (<c>.lock</c>, <c>.sock</c>).</param>
/// <param name="HolderPid">The registrant's pid, null when the lock is free (the registrant exited).</param>
/// <param name="Listening">Whether the look-up socket is there (a registrant creates it right after taking the lock).</param>
internal sealed record RegisteredName(string Name, string Domain, string BasePath, int? HolderPid, bool Listening)
{
    public bool IsAlive => HolderPid is not null;

    public string State => (HolderPid, Listening) switch
    {
        (null, _) => "stale (its process exited; the next check-in or 'machctl prune' removes it)",
        (_, true) => "alive",
        (_, false) => "alive, not yet listening",
    };
}
