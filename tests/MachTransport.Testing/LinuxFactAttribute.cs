using Xunit;

namespace MachTransport.Testing;

/// <summary>A test of the Linux emulation itself (its registry directory, its wire format): skipped elsewhere.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute() => Skip = SkipUnlessLinux;

    /// <summary>Null on Linux; elsewhere the reason such tests are skipped.</summary>
    public static string? SkipUnlessLinux => OperatingSystem.IsLinux() ? null : "Tests the Linux emulation of Mach; this is not Linux.";
}
