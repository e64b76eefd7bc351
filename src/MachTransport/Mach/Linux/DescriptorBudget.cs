namespace MachTransport.Mach.Linux;

/// <summary>
/// This process's descriptor table as the emulation spends it: the top <see cref="Reserve"/> descriptors below
/// RLIMIT_NOFILE are left to the runtime and the application (threads, pipes, files, Kestrel's sockets fail fatally
/// without them), so work a peer starts (a holder connecting, a look-up, a connection, a datagram carrying
/// descriptors) is refused while taking it would cut into them. The count of open descriptors is the size the kernel
/// reports for <c>/proc/self/fd</c> (Linux 6.2 and later: one <c>statx</c>; earlier kernels list the directory).
/// </summary>
internal static unsafe class DescriptorBudget
{
    /// <summary>
    /// Descriptors the emulation never takes. The test host (Kestrel on Mach and TCP) grew by 40 descriptors at most
    /// beyond its resting table while serving (HTTP/2 and HTTP/1.1 clients on TCP, thread pool growth, logging, files
    /// read): twice that and more.
    /// </summary>
    public const int Reserve = 128;

    /// <summary>The soft RLIMIT_NOFILE (read each time: an application may raise it); a large number when unlimited.</summary>
    public static long Limit
    {
        get
        {
            Libc.RLimit limit;
            return Libc.getrlimit(Libc.RLIMIT_NOFILE, &limit) == 0 && limit.Soft < int.MaxValue ? (long)limit.Soft : int.MaxValue;
        }
    }

    /// <summary>
    /// Descriptors one process may have waiting in <see cref="DeferredClose"/> before the receive path stops reading
    /// descriptors it sends: a sixteenth of what the emulation may use (beside a quarter of the connections, see
    /// ConnectionBudget), so three processes leave room to a fourth, and never less than two full datagrams' worth.
    /// </summary>
    public static int PendingClosesPerSender => (int)Math.Clamp((Limit - Reserve) / 16, 2 * Libc.ScmMaxFd, int.MaxValue);

    /// <summary>Descriptors this process has open.</summary>
    public static int InUse()
    {
        Libc.Statx stat;
        if (Libc.statx(Libc.AT_FDCWD, "/proc/self/fd", 0, Libc.STATX_BASIC_STATS, &stat) == 0 && stat.Size > 0)
        {
            return (int)stat.Size;
        }

        return Directory.GetFiles("/proc/self/fd").Length;
    }

    /// <summary>Whether <paramref name="count"/> more descriptors leave the reserve untouched.</summary>
    public static bool HasRoom(int count) => InUse() + count <= Limit - Reserve;
}
