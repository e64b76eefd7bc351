namespace MachTransport.Channel;

/// <summary>
/// The default connection limits: on Linux each connection costs descriptors (its receive port: listener, O_PATH,
/// epoll, wake event and the client's connection to it; its send right to the client's port: O_PATH and connection;
/// once out-of-line data went each way, the parks of its own OOL ring and of the client's; 9 in all, measured by
/// ConnectionLimitTests), so the limit follows the process's RLIMIT_NOFILE, leaving headroom
/// for the process itself (a resting Kestrel app holds about 210) and the emulation's reserve
/// (<see cref="Mach.Linux.DescriptorBudget.Reserve"/>). Darwin connections cost Mach port names, not descriptors:
/// there the fixed cap applies. One peer process may take a quarter, so no three processes can deny a fourth, and at
/// most <see cref="PeerProcessCap"/>, so what one peer process can make the server hold in memory stays small.
/// </summary>
internal static class ConnectionBudget
{
    public const int Cap = 10_000;
    public const int DescriptorsPerConnection = 9;
    public const int PeerProcessShare = 4;

    /// <summary>
    /// The transport holds up to about 3.6 MiB for a connection whose peer fills every window (docs/protocol.md, threat
    /// model): 16 connections keep one peer process under 64 MiB. An HTTP/2 client needs one connection per 100
    /// concurrent streams; a proxy that opens one per client of its own (machctl bridge) may need the option raised.
    /// </summary>
    public const int PeerProcessCap = 16;
    private const int Headroom = 256 + Mach.Linux.DescriptorBudget.Reserve;

    public static int DefaultMaxConnections { get; } = FromOpenFileLimit(OperatingSystem.IsLinux() ? Mach.Linux.DescriptorBudget.Limit : null);

    public static int FromOpenFileLimit(long? limit)
        => limit is long soft ? (int)Math.Clamp((soft - Headroom) / DescriptorsPerConnection, 1, Cap) : Cap;

    /// <summary>Whether one more connection's descriptors fit above the emulation's reserve (on Darwin, always).</summary>
    public static bool HasDescriptorsForOneMore() => !OperatingSystem.IsLinux() || Mach.Linux.DescriptorBudget.HasRoom(DescriptorsPerConnection);

    /// <summary>The default per-peer-process limit: a quarter of <paramref name="maxConnections"/>, at least 1 and at most <see cref="PeerProcessCap"/>.</summary>
    public static int PerPeerProcess(int maxConnections) => Math.Clamp(maxConnections / PeerProcessShare, 1, PeerProcessCap);
}
