using MachTransport.Mach.Linux;

namespace MachTransport;

/// <summary>
/// The names registered in the Linux emulation's bootstrap domains (docs/linux-emulation.md), read from their
/// directories without touching them, and the removal of stale ones: what <c>machctl list</c> and <c>machctl prune</c>
/// do. Linux only: launchd (macOS) has no public API that enumerates a namespace, and removes the names of exited
/// processes itself.
/// </summary>
public static class MachServiceRegistry
{
    /// <summary>The directory that holds <paramref name="domain"/>'s names in this process (its environment decides it).</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    public static string GetDirectory(MachBootstrapDomain domain)
    {
        ThrowIfNotLinux();
        return RegistryListing.Of(domain).Path;
    }

    /// <summary>The names of <paramref name="domain"/>, unsorted, live and stale; none when its directory does not exist.</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="UnauthorizedAccessException">This user may not read the domain's directory.</exception>
    /// <exception cref="IOException">The directory, or the kernel's table of locks, could not be read.</exception>
    public static IReadOnlyList<MachRegisteredService> GetServices(MachBootstrapDomain domain)
    {
        ThrowIfNotLinux();
        return RegistryListing.Read(domain);
    }

    /// <summary>
    /// Removes the files of <paramref name="service"/> if it is stale: only while its lock is free (taken for the
    /// removal) and nobody listens on its socket, so a live or newly registered name is never touched. False when the
    /// name is live, or its files are not this process's to remove (another user's; the system domain's, unless root).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    public static bool RemoveIfStale(MachRegisteredService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        ThrowIfNotLinux();
        return RegistryListing.RemoveIfStale(service);
    }

    private static void ThrowIfNotLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The Mach service registry is the Linux emulation's: launchd has no public API that enumerates a bootstrap namespace.");
        }
    }
}
