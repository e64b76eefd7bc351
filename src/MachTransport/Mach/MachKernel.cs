using MachTransport.Mach.Darwin;
using MachTransport.Mach.Linux;

namespace MachTransport.Mach;

/// <summary>Chooses the backend for this operating system once, at first use.</summary>
internal static class MachKernel
{
    private static readonly Lazy<IMachKernel> s_current = new(Create);

    /// <summary>The backend for this process: Darwin on macOS, the emulation on Linux.</summary>
    public static IMachKernel Current => s_current.Value;

    private static IMachKernel Create()
    {
        if (OperatingSystem.IsMacOS())
        {
            return new DarwinKernel();
        }

        if (OperatingSystem.IsLinux())
        {
            return LinuxKernel.Instance;
        }

        throw new PlatformNotSupportedException(
            "MachTransport needs Mach IPC: it runs on macOS (the Mach kernel) and on Linux (a user-space emulation of Mach ports). "
            + $"This operating system ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}) is neither.");
    }
}
