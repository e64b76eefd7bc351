using System.Numerics;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The memory received out-of-line data is copied into, kept for reuse. A region freed with vm_deallocate goes back
/// here instead of being unmapped, so a steady stream of OOL messages costs no mmap, no munmap (whose TLB shootdown
/// reaches every core the process's threads ran on: 22% of a 1 MiB download's client CPU when each region was
/// unmapped) and, once warm, no page faults. Regions come in power-of-two classes up to <see cref="MaxPooledSize"/>;
/// idle memory is capped. A free that would cut into a pooled region is refused rather than unmapping it.
/// </summary>
internal sealed unsafe class ReceivedRegionPool
{
    /// <summary>Largest region kept for reuse, and the most one datagram may have copied (larger data is mapped).</summary>
    public const ulong MaxPooledSize = 1 << 20;

    /// <summary>Bytes kept idle at most, over all classes.</summary>
    public const ulong MaxIdleBytes = 8 << 20;

    private const ulong MinClassSize = 64 << 10;

    private readonly int _pageSize;
    private readonly Stack<ulong>[] _idle;
    private readonly Dictionary<ulong, (ulong ClassSize, bool Idle)> _regions = []; // every pooled mapping, by address
    private ulong _idleBytes;

    public ReceivedRegionPool(int pageSize)
    {
        _pageSize = pageSize;
        _idle = new Stack<ulong>[ClassOf(MaxPooledSize) + 1];
        for (int i = 0; i < _idle.Length; i++)
        {
            _idle[i] = new Stack<ulong>();
        }
    }

    /// <summary>What <see cref="Release"/> did with a range.</summary>
    public enum Outcome
    {
        /// <summary>Not pooled memory: the caller frees it as ordinary memory.</summary>
        NotPooled,

        /// <summary>A rented region, freed whole: back in the pool (or unmapped beyond the idle cap).</summary>
        Returned,

        /// <summary>Overlaps pooled memory without being a rented region freed whole (a double or partial free): refused.</summary>
        Refused,
    }

    /// <summary>Idle regions held now (tests look here to see reuse).</summary>
    public int IdleCount
    {
        get
        {
            lock (_regions)
            {
                return _idle.Sum(stack => stack.Count);
            }
        }
    }

    /// <summary>A private, writable region of at least <paramref name="size"/> bytes (at most <see cref="MaxPooledSize"/>), or 0.</summary>
    public ulong Rent(ulong size)
    {
        if (size == 0 || size > MaxPooledSize)
        {
            return 0;
        }

        ulong classSize = ClassSize(size);
        lock (_regions)
        {
            if (_idle[ClassOf(classSize)].TryPop(out ulong reused))
            {
                _idleBytes -= classSize;
                _regions[reused] = (classSize, false);
                return reused;
            }
        }

        void* mapping = Libc.mmap(null, (nuint)classSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (mapping == (void*)-1)
        {
            return 0;
        }

        lock (_regions)
        {
            _regions.Add((ulong)mapping, (classSize, false));
        }

        return (ulong)mapping;
    }

    /// <summary>Takes back a range freed with vm_deallocate if it is pooled memory; see <see cref="Outcome"/>.</summary>
    public Outcome Release(ulong address, ulong size)
    {
        ulong classSize;
        lock (_regions)
        {
            if (!_regions.TryGetValue(address, out (ulong ClassSize, bool Idle) region) || region.Idle || size > region.ClassSize)
            {
                return Overlaps(address, size) ? Outcome.Refused : Outcome.NotPooled;
            }

            classSize = region.ClassSize;
            if (_idleBytes + classSize <= MaxIdleBytes)
            {
                _regions[address] = (classSize, true);
                _idle[ClassOf(classSize)].Push(address);
                _idleBytes += classSize;
                return Outcome.Returned;
            }

            _regions.Remove(address);
        }

        _ = Libc.munmap((void*)address, (nuint)classSize);
        return Outcome.Returned;
    }

    /// <summary>Unmaps a rented region that must not be reused (its contents could not be filled).</summary>
    public void Discard(ulong address)
    {
        ulong classSize;
        lock (_regions)
        {
            if (!_regions.TryGetValue(address, out (ulong ClassSize, bool Idle) region) || region.Idle)
            {
                return;
            }

            _regions.Remove(address);
            classSize = region.ClassSize;
        }

        _ = Libc.munmap((void*)address, (nuint)classSize);
    }

    /// <summary>Whether [address, address + size) touches any pooled region (caller holds the lock; rare path).</summary>
    private bool Overlaps(ulong address, ulong size)
    {
        ulong end = address + Math.Max(size, 1);
        foreach ((ulong start, (ulong classSize, _)) in _regions)
        {
            if (address < start + classSize && start < end)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The next power of two, at least 64 KiB (OOL data is larger than the largest inline payload anyway).</summary>
    private ulong ClassSize(ulong size) => ulong.Max(BitOperations.RoundUpToPowerOf2(PageRounded(size)), MinClassSize);

    private static int ClassOf(ulong classSize) => BitOperations.Log2(classSize) - BitOperations.Log2(MinClassSize);

    private ulong PageRounded(ulong size) => (size + (ulong)_pageSize - 1) & ~((ulong)_pageSize - 1);
}
