// The Linux emulation's bootstrap domains as "machctl list" and "prune" show them, read through MachServiceRegistry.
namespace MachTransport.Tools.Registry;

/// <summary>
/// Both domains' names in one sorted list; a domain whose directory this user cannot read is reported, not thrown.
/// </summary>
internal static class LinuxRegistry
{
    public static IEnumerable<MachBootstrapDomain> Domains => [MachBootstrapDomain.User, MachBootstrapDomain.System];

    public static string DomainName(MachBootstrapDomain domain) => domain == MachBootstrapDomain.System ? "system" : "user";

    /// <summary>The names of every domain, sorted by name; <paramref name="unreadable"/> gets a sentence per domain that could not be read.</summary>
    public static IReadOnlyList<MachRegisteredService> ReadNames(List<string> unreadable)
    {
        var names = new List<MachRegisteredService>();
        foreach (MachBootstrapDomain domain in Domains)
        {
            try
            {
                names.AddRange(MachServiceRegistry.GetServices(domain));
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                unreadable.Add($"cannot read the {DomainName(domain)} domain's directory '{MachServiceRegistry.GetDirectory(domain)}': {ex.Message}");
            }
        }

        names.Sort((a, b) => string.CompareOrdinal(a.ServiceName, b.ServiceName) is int byName and not 0 ? byName : string.CompareOrdinal(DomainName(a.Domain), DomainName(b.Domain)));
        return names;
    }

    /// <summary>What the listing says of a name: alive, or stale and how it goes away.</summary>
    public static string State(MachRegisteredService name) => (name.HolderPid, name.IsListening) switch
    {
        (null, _) => "stale (its process exited; the next check-in or 'machctl prune' removes it)",
        (_, true) => "alive",
        (_, false) => "alive, not yet listening",
    };
}
