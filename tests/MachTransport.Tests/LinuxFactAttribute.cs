using Xunit;

namespace MachTransport.Tests;

/// <summary>A test of the Linux emulation itself (its registry directory, its wire format): skipped elsewhere.</summary>
internal sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Tests the Linux emulation of Mach; this is not Linux.";
        }
    }
}
