using MachTransport.Mach.Linux;
using Xunit;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// A lease keeps a descriptor open across a syscall; TryAcquire is for a descriptor another thread may release at any
/// moment (the kernel thread answering look-ups while a registration is withdrawn): it never throws.
/// </summary>
[Trait("Category", "Conformance")]
public sealed class LinuxFdTests
{
    [LinuxFact]
    public void TryAcquireOfAReleasedDescriptorHoldsNothingAndALeaseKeepsItOpenPastItsRelease()
    {
        var fd = new LinuxFd(Libc.eventfd(0, Libc.EFD_CLOEXEC));
        int number = fd.Number;
        using (LinuxFd.Lease lease = fd.TryAcquire())
        {
            Assert.True(lease.Holds);
            fd.Dispose();
            Assert.True(File.Exists($"/proc/self/fd/{number}"), "released under a lease");
        }

        Assert.False(fd.TryAcquire().Holds);
        Assert.Throws<ObjectDisposedException>(() => fd.Acquire());
    }
}
