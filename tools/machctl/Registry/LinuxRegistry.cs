// Reads the Linux emulation's bootstrap domains (docs/linux-emulation.md): per name a lock file held with flock by the live registrant and a look-up socket.
using MachTransport.Mach.Linux;

namespace MachTransport.Tools.Registry;

/// <summary>
/// Lists the names of this user's domain and of the system domain without touching them: no lock is taken, no look-up
/// made. A domain whose directory this user cannot read is reported, not thrown.
/// </summary>
internal static class LinuxRegistry
{
    public static IEnumerable<BootstrapDomain> Domains => [BootstrapDomain.User, BootstrapDomain.System];

    public static string DomainName(BootstrapDomain domain) => domain.IsSystem ? "system" : "user";

    /// <summary>The names of every domain, sorted by name; <paramref name="unreadable"/> gets a sentence per domain that could not be read.</summary>
    public static IReadOnlyList<RegisteredName> ReadNames(List<string> unreadable)
    {
        FlockTable locks = FlockTable.Read();
        var names = new List<RegisteredName>();
        foreach (BootstrapDomain domain in Domains)
        {
            try
            {
                ReadDomain(domain, locks, names);
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                unreadable.Add($"cannot read the {DomainName(domain)} domain's directory '{domain.Path}': {ex.Message}");
            }
        }

        names.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is int byName and not 0 ? byName : string.CompareOrdinal(a.Domain, b.Domain));
        return names;
    }

    private static void ReadDomain(BootstrapDomain domain, FlockTable locks, List<RegisteredName> names)
    {
        string directory = domain.Path;
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (string lockFile in Directory.EnumerateFiles(directory, "*.lock"))
        {
            string basePath = lockFile[..^".lock".Length];
            string fileName = Path.GetFileName(basePath);
            int? holder = UnixFileStatus.TryGet(lockFile, out UnixFileStatus status) && locks.TryGetHolder(status, out int pid) ? pid : null;

            // The name its registrant wrote, if it is the one this file stands for (anyone of the user can write the file).
            string? written = LinuxBootstrap.NameIn(lockFile);
            string name = written is not null && LinuxBootstrap.FileNameFor(directory, written) == fileName ? written : fileName;
            names.Add(new RegisteredName(name, DomainName(domain), basePath, holder, File.Exists(basePath + ".sock")));
        }
    }
}
