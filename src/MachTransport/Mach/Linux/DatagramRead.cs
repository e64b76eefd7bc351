namespace MachTransport.Mach.Linux;

/// <summary>
/// What a non-blocking read of a port socket found: a datagram's full <see cref="Length"/>, or the errno that stopped
/// it (<see cref="IsEmpty"/> when nothing was queued).
/// </summary>
internal readonly record struct DatagramRead(nint Length, int Error)
{
    /// <summary>Nothing is queued (EAGAIN).</summary>
    public bool IsEmpty => Error == Libc.EAGAIN;

    /// <summary>No datagram was read; <see cref="Error"/> says why.</summary>
    public bool Failed => Error != 0;

    public static DatagramRead Failure(int error) => new(0, error);
}
