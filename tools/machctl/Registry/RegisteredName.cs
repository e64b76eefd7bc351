// One name of the Linux bootstrap namespace as "machctl list" reports it.
namespace MachTransport.Tools.Registry;

/// <summary>A name with the pid holding it (its lock's holder), or a stale entry nobody holds.</summary>
/// <param name="Name">The service name; a name that is not a plain file name appears as its digest ("h." and hex).</param>
/// <param name="HolderPid">The registrant's pid, null when the lock is free (the registrant exited).</param>
/// <param name="Listening">Whether the look-up socket is there (a registrant creates it right after taking the lock).</param>
internal sealed record RegisteredName(string Name, int? HolderPid, bool Listening)
{
    public bool IsAlive => HolderPid is not null;

    public string State => (HolderPid, Listening) switch
    {
        (null, _) => "stale (its process exited; the next check-in reclaims the name)",
        (_, true) => "alive",
        (_, false) => "alive, not yet listening",
    };
}
