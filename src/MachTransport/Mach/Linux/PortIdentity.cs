namespace MachTransport.Mach.Linux;

/// <summary>
/// Which port a right denotes: the (device, inode) of the port's listening socket, read through the <c>O_PATH</c>
/// descriptor that travels as the right. The kernel vouches for the inode, so no sender can claim another port's
/// identity; rights to one port arriving twice merge under one name, as in Mach.
/// </summary>
internal readonly record struct PortIdentity(ulong Device, ulong Inode)
{
    public bool IsNone => Inode == 0;

    /// <summary>The identity of the file <paramref name="stat"/> describes.</summary>
    public static PortIdentity Of(in Libc.Statx stat) => new(((ulong)stat.DeviceMajor << 32) | stat.DeviceMinor, stat.Inode);
}
