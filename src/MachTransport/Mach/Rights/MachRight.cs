using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Rights;

/// <summary>
/// An owned Mach right: one user reference under one name in this task's space, released exactly once.
/// A right that is garbage-collected instead of disposed is released by its finalizer and counted in
/// <see cref="LeakedCount"/>, so tests catch code that forgets to dispose.
/// </summary>
internal abstract class MachRight : SafeHandle
{
    private static long s_leaked;

    protected MachRight(IMachKernel kernel, uint name)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        Kernel = kernel;
        SetHandle((nint)name);
    }

    /// <summary>Rights finalized without having been disposed (process-wide).</summary>
    public static long LeakedCount => Interlocked.Read(ref s_leaked);

    public IMachKernel Kernel { get; }

    /// <summary>The name of the right in this task's IPC space.</summary>
    public uint Name => (uint)handle;

    public override bool IsInvalid => !MachPort.IsValid((uint)handle);

    /// <summary>
    /// Gives the reference up without releasing it, because a message moved it (a <c>MOVE_*</c> disposition
    /// that the kernel accepted). Returns the name it had.
    /// </summary>
    public uint Detach()
    {
        uint name = Name;
        SetHandleAsInvalid();
        return name;
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing && !IsInvalid && !IsClosed)
        {
            Interlocked.Increment(ref s_leaked);
        }

        base.Dispose(disposing);
    }

    protected override bool ReleaseHandle() => Release((uint)handle) == KernReturn.Success;

    private protected abstract KernReturn Release(uint name);
}
