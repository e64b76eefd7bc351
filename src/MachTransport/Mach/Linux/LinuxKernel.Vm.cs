using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// VM memory for out-of-line transfer. Regions from <see cref="VmAllocate"/> are memfd-backed, so sending one
/// with deallocate-on-send hands its memfd over without a copy; any other memory is copied into a fresh memfd.
/// Every memfd that travels is sealed against shrinking, growing and writing, so a receiver's mapping can never
/// fault (SIGBUS) nor change under it: it is the receiver's own copy, as in Mach.
/// </summary>
internal sealed partial class LinuxKernel
{
    public unsafe KernReturn VmAllocate(ulong size, out ulong address)
    {
        address = 0;
        ulong rounded = RoundToPage(size);
        if (size == 0 || rounded > long.MaxValue)
        {
            return KernReturn.InvalidArgument;
        }

        LinuxFd? memfd = CreateSealedMemfd(rounded);
        if (memfd is null)
        {
            return KernReturn.ResourceShortage;
        }

        void* mapping = Libc.mmap(null, (nuint)rounded, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, memfd.Number, 0);
        if (mapping == (void*)-1)
        {
            memfd.Dispose();
            return KernReturn.NoSpace;
        }

        address = (ulong)mapping;
        lock (_regions)
        {
            _regions.Add(address, (memfd, rounded));
        }

        return KernReturn.Success;
    }

    public unsafe KernReturn VmDeallocate(ulong address, ulong size)
    {
        switch (size == 0 ? ReceivedRegionPool.Outcome.Returned : _receivedRegions.Release(address, size))
        {
            case ReceivedRegionPool.Outcome.Returned:
                return KernReturn.Success;
            case ReceivedRegionPool.Outcome.Refused:
                return KernReturn.InvalidAddress;
        }

        (LinuxFd Memfd, ulong Size) region;
        lock (_regions)
        {
            if (_regions.Remove(address, out region) && region.Size != RoundToPage(size))
            {
                // Only whole regions are tracked; a partial free keeps the memfd until the rest goes.
                _regions.Add(address, region);
                region = default;
            }
        }

        int result = Libc.munmap((void*)address, (nuint)RoundToPage(size));
        region.Memfd?.Dispose();
        return result == 0 ? KernReturn.Success : KernReturn.InvalidAddress;
    }

    /// <summary>
    /// The memfd to carry for an OOL descriptor, sealed against writing. A whole <see cref="VmAllocate"/> region sent
    /// with deallocate travels as is; anything else is copied.
    /// </summary>
    private unsafe int PrepareOutOfLine(ulong address, uint size, bool deallocate, out LinuxFd? memfd)
    {
        lock (_regions)
        {
            if (deallocate && _regions.TryGetValue(address, out (LinuxFd Memfd, ulong Size) region) && region.Size >= size)
            {
                // The region leaves the table: its memfd goes with the message, and the caller's mapping becomes a
                // private copy (a failed send leaves the caller its memory; a later send of it copies).
                _regions.Remove(address);
                if (SealAgainstWriting(address, region.Memfd, region.Size))
                {
                    memfd = region.Memfd;
                    return 0;
                }

                region.Memfd.Dispose();
            }
        }

        // No ftruncate: write(2) sizes the file, and one fcntl then adds all three seals (three system calls fewer
        // than create, size, seal, write, seal). The size is exact, not page-rounded: the receiver maps what it needs.
        int fd = Libc.memfd_create("mach-ool", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        if (fd < 0)
        {
            memfd = null;
            return Libc.LastError;
        }

        memfd = new LinuxFd(fd);

        // write(2) reads the sender's memory in the kernel: a bad pointer is EFAULT, never a crash.
        byte* source = (byte*)address;
        ulong done = 0;
        while (done < size)
        {
            nint written = Libc.write(memfd.Number, source + done, (nuint)(size - done));
            if (written <= 0)
            {
                int error = written < 0 ? Libc.LastError : Libc.EFAULT;
                if (error == Libc.EINTR)
                {
                    continue;
                }

                memfd.Dispose();
                memfd = null;
                return error;
            }

            done += (ulong)written;
        }

        if (Libc.fcntl(memfd.Number, Libc.F_ADD_SEALS, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE) != 0)
        {
            int error = Libc.LastError;
            memfd.Dispose();
            memfd = null;
            return error;
        }

        return 0;
    }

    /// <summary>
    /// Seals a <see cref="VmAllocate"/> region's memfd against writing. A write seal needs no writable shared mapping,
    /// so the region is first remapped in place as a private copy-on-write mapping of the same pages: the caller's
    /// memory reads the same and stays writable, and nothing can write the memfd any more.
    /// </summary>
    private static unsafe bool SealAgainstWriting(ulong address, LinuxFd memfd, ulong size)
    {
        using LinuxFd.Lease lease = memfd.Acquire();
        void* remapped = Libc.mmap((void*)address, (nuint)size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_FIXED, lease.Number, 0);
        return remapped == (void*)address && Libc.fcntl(lease.Number, Libc.F_ADD_SEALS, Libc.F_SEAL_WRITE) == 0;
    }

    private static LinuxFd? CreateSealedMemfd(ulong size)
    {
        int fd = Libc.memfd_create("mach-ool", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        if (fd < 0)
        {
            return null;
        }

        var memfd = new LinuxFd(fd);
        if (Libc.ftruncate(fd, (long)size) != 0 || Libc.fcntl(fd, Libc.F_ADD_SEALS, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW) != 0)
        {
            memfd.Dispose();
            return null;
        }

        return memfd;
    }

    /// <summary>
    /// The receiver's own copy of a received OOL memfd, as Mach gives it, after checking that nobody can write the memfd
    /// any more, so the copy is what the sender sent. A file that cannot carry seals (F_GET_SEALS fails: a regular file,
    /// a pipe) is refused, and so is one shorter than the descriptor claims. While the datagram's
    /// <paramref name="copyBudget"/> lasts (the pool's largest class, 1 MiB) the data is copied into a pooled region:
    /// no mapping, no page faults once warm, no unmapping. Beyond it claims are mapped privately instead, so nothing is
    /// copied or allocated before the receiver looks: one small datagram may carry 253 descriptors of one memfd, each
    /// claiming gigabytes that the channel then refuses without touching them.
    /// </summary>
    private unsafe ulong ReceiveOutOfLine(int fd, uint size, ref ulong copyBudget)
    {
        const int Required = Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE;
        int seals = Libc.fcntl(fd, Libc.F_GET_SEALS, 0);
        if (seals == -1 || (seals & Required) != Required)
        {
            return 0;
        }

        if (size > copyBudget)
        {
            return MapPrivately(fd, size);
        }

        copyBudget -= size;
        return CopyIntoPooledRegion(fd, size);
    }

    private unsafe ulong CopyIntoPooledRegion(int fd, uint size)
    {
        ulong address = _receivedRegions.Rent(size);
        if (address == 0)
        {
            return 0;
        }

        byte* region = (byte*)address;
        uint done = 0;
        while (done < size)
        {
            nint read = Libc.pread(fd, region + done, size - done, done);
            if (read <= 0 && !(read < 0 && Libc.LastError == Libc.EINTR))
            {
                _receivedRegions.Discard(address); // shorter than claimed
                return 0;
            }

            done += (uint)Math.Max(read, 0);
        }

        // The rest of the last page reads as zeros, as in a fresh Mach region; a reused one may hold older data.
        new Span<byte>(region + size, (int)(RoundToPage(size) - size)).Clear();
        return address;
    }

    /// <summary>Maps the sealed memfd copy-on-write; it must hold every byte claimed, or touching the end would fault (SIGBUS).</summary>
    private static unsafe ulong MapPrivately(int fd, uint size)
    {
        Libc.Statx stat;
        if (Libc.statx(fd, string.Empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &stat) != 0 || stat.Size < size)
        {
            return 0;
        }

        void* mapping = Libc.mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE, fd, 0);
        return mapping == (void*)-1 ? 0 : (ulong)mapping;
    }

    private ulong RoundToPage(ulong size) => (size + (ulong)PageSize - 1) & ~((ulong)PageSize - 1);
}
