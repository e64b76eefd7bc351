namespace MachTransport.Mach.Abi;

/// <summary><c>vm_allocate</c> flags (osfmk/mach/vm_statistics.h; docs/mach-abi.md §8.3).</summary>
internal static class VmFlags
{
    /// <summary><c>VM_FLAGS_FIXED</c>: map at the given address.</summary>
    public const int Fixed = 0x0;

    /// <summary><c>VM_FLAGS_ANYWHERE</c>: the kernel picks the address.</summary>
    public const int Anywhere = 0x1;
}
