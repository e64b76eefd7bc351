using Xunit;

namespace MachTransport.Testing;

/// <summary>A theory about the Linux emulation itself: skipped elsewhere.</summary>
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute() => Skip = LinuxFactAttribute.SkipUnlessLinux;
}
