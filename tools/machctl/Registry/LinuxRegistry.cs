// Reads the Linux emulation's bootstrap namespace (docs/linux-emulation.md): per name a lock file held with flock by the live registrant and a look-up socket.
using MachTransport.Mach.Linux;

namespace MachTransport.Tools.Registry;

/// <summary>Lists the names of the current user's namespace without touching them: no lock is taken, no look-up made.</summary>
internal static class LinuxRegistry
{
    public static string Directory => LinuxBootstrap.RegistryDirectory;

    public static IReadOnlyList<RegisteredName> ReadNames()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        FlockTable locks = FlockTable.Read();
        var names = new List<RegisteredName>();
        foreach (string lockFile in System.IO.Directory.EnumerateFiles(Directory, "*.lock"))
        {
            string basePath = lockFile[..^".lock".Length];
            int? holder = UnixFileStatus.TryGet(lockFile, out UnixFileStatus status) && locks.TryGetHolder(status, out int pid) ? pid : null;
            names.Add(new RegisteredName(Path.GetFileName(basePath), holder, File.Exists(basePath + ".sock")));
        }

        names.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return names;
    }
}
