using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Rights;

/// <summary>
/// VM memory that travels out of line: allocated here to be sent, or mapped into this task by a receive.
/// Freed exactly once when disposed, unless a send with deallocate-on-send took it (<see cref="Detach"/>).
/// </summary>
internal sealed unsafe class MachOolRegion : SafeHandle
{
    private readonly IMachKernel _kernel;

    public MachOolRegion(IMachKernel kernel, ulong address, ulong size)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _kernel = kernel;
        Size = size;
        SetHandle((nint)address);
    }

    public static MachOolRegion Allocate(IMachKernel kernel, ulong size)
    {
        MachException.ThrowIfFailed(kernel.VmAllocate(size, out ulong address), "mach_vm_allocate");
        return new MachOolRegion(kernel, address, size);
    }

    public ulong Address => (ulong)handle;

    public ulong Size { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The region's bytes (up to 2 GiB, the transport's own bound on a region).</summary>
    public Span<byte> Span => new((void*)handle, checked((int)Size));

    /// <summary>The kernel took the region (sent with deallocate): forget it without freeing.</summary>
    public ulong Detach()
    {
        ulong address = Address;
        SetHandleAsInvalid();
        return address;
    }

    protected override bool ReleaseHandle() => Size == 0 || _kernel.VmDeallocate((ulong)handle, Size) == KernReturn.Success;
}
