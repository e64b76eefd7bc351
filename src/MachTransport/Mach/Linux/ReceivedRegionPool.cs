using System.Numerics;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The memory received out-of-line data is copied into, kept for reuse. A region freed with vm_deallocate goes back
/// here instead of being unmapped, so a steady stream of OOL messages costs no mmap, no munmap (whose TLB shootdown
/// reaches every core the process's threads ran on: 22% of a 1 MiB download's client CPU when each region was
/// unmapped) and, once warm, no page faults. Regions come in power-of-two classes; idle memory is capped.
/// </summary>
internal sealed unsafe class ReceivedRegionPool
{
    /// <summary>Largest region kept for reuse; larger ones are mapped and unmapped each time.</summary>
    public const ulong MaxPooledSize = 16 << 20;

    /// <summary>Bytes kept idle at most, over all classes.</summary>
    public const ulong MaxIdleBytes = 32 << 20;

    private const ulong MinClassSize = 64 << 10;

    private readonly int _pageSize;
    private readonly Stack<ulong>[] _idle;
    private readonly Dictionary<ulong, ulong> _rented = []; // address -> the class's size
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

    /// <summary>Idle regions held now (tests look here to see reuse).</summary>
    public int IdleCount
    {
        get
        {
            lock (_rented)
            {
                return _idle.Sum(stack => stack.Count);
            }
        }
    }

    /// <summary>A private, writable region of at least <paramref name="size"/> bytes, or 0 if none can be mapped.</summary>
    public ulong Rent(ulong size)
    {
        ulong classSize = ClassSize(size);
        if (classSize <= MaxPooledSize)
        {
            lock (_rented)
            {
                if (_idle[ClassOf(classSize)].TryPop(out ulong reused))
                {
                    _idleBytes -= classSize;
                    _rented.Add(reused, classSize);
                    return reused;
                }
            }
        }

        bool pooled = classSize <= MaxPooledSize;
        ulong length = pooled ? classSize : PageRounded(size);
        void* mapping = Libc.mmap(null, (nuint)length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (mapping == (void*)-1)
        {
            return 0;
        }

        if (pooled)
        {
            lock (_rented)
            {
                _rented.Add((ulong)mapping, classSize);
            }
        }

        return (ulong)mapping;
    }

    /// <summary>
    /// Takes back a rented region freed whole (at its address, any size within it), keeping it if the idle cap
    /// allows; false if the address is not a rented region, which the caller then frees as ordinary memory.
    /// </summary>
    public bool TryReturn(ulong address, ulong size)
    {
        ulong classSize;
        lock (_rented)
        {
            if (!_rented.TryGetValue(address, out classSize) || size > classSize)
            {
                return false;
            }

            _rented.Remove(address);
            if (_idleBytes + classSize <= MaxIdleBytes)
            {
                _idle[ClassOf(classSize)].Push(address);
                _idleBytes += classSize;
                return true;
            }
        }

        _ = Libc.munmap((void*)address, (nuint)classSize);
        return true;
    }

    /// <summary>Unmaps a rented region that must not be reused (its contents could not be filled).</summary>
    public void Discard(ulong address)
    {
        ulong classSize;
        lock (_rented)
        {
            if (!_rented.Remove(address, out classSize))
            {
                return;
            }
        }

        _ = Libc.munmap((void*)address, (nuint)classSize);
    }

    /// <summary>The next power of two, at least 64 KiB (OOL data is larger than the largest inline payload anyway).</summary>
    private ulong ClassSize(ulong size) => ulong.Max(BitOperations.RoundUpToPowerOf2(PageRounded(size)), MinClassSize);

    private static int ClassOf(ulong classSize) => BitOperations.Log2(classSize) - BitOperations.Log2(MinClassSize);

    private ulong PageRounded(ulong size) => (size + (ulong)_pageSize - 1) & ~((ulong)_pageSize - 1);
}
