using System.Globalization;

namespace MachTransport.Server;

/// <summary>
/// The default connection limits: on Linux each connection costs descriptors (its receive port: listener, O_PATH,
/// epoll, wake event and the client's connection to it; its send right to the client's port: O_PATH and connection;
/// 8 in all, measured by ConnectionLimitTests), so the limit follows the process's RLIMIT_NOFILE, leaving headroom
/// for the process itself (a resting Kestrel app holds about 210) and the emulation's reserve
/// (<see cref="Mach.Linux.DescriptorBudget.Reserve"/>). Darwin connections cost Mach port names, not descriptors:
/// there the fixed cap applies. One peer process may take a quarter, so no three processes can deny a fourth.
/// </summary>
internal static class ConnectionBudget
{
    public const int Cap = 10_000;
    public const int DescriptorsPerConnection = 8;
    public const int PeerProcessShare = 4;
    private const int Headroom = 256 + Mach.Linux.DescriptorBudget.Reserve;

    public static int DefaultMaxConnections { get; } = FromOpenFileLimit(OperatingSystem.IsLinux() ? SoftOpenFileLimit() : null);

    public static int FromOpenFileLimit(long? limit)
        => limit is long soft ? (int)Math.Clamp((soft - Headroom) / DescriptorsPerConnection, 1, Cap) : Cap;

    /// <summary>Whether one more connection's descriptors fit above the emulation's reserve (on Darwin, always).</summary>
    public static bool HasDescriptorsForOneMore() => !OperatingSystem.IsLinux() || Mach.Linux.DescriptorBudget.HasRoom(DescriptorsPerConnection);

    /// <summary>The default per-peer-process limit: a quarter of <paramref name="maxConnections"/>, at least 1.</summary>
    public static int PerPeerProcess(int maxConnections) => Math.Max(1, maxConnections / PeerProcessShare);

    /// <summary>The soft "Max open files" of /proc/self/limits; null when unlimited or unreadable.</summary>
    private static long? SoftOpenFileLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft) ? soft : null;
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
