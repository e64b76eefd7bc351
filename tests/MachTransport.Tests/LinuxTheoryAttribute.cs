using Xunit;

namespace MachTransport.Tests;

/// <summary>A theory about the Linux emulation itself: skipped elsewhere.</summary>
internal sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute() => Skip = LinuxFactAttribute.SkipUnlessLinux;
}
