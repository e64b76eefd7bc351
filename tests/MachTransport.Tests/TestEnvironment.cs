using System.Runtime.CompilerServices;
using System.Runtime.Versioning;

// Mach runs on macOS and, emulated, on Linux: never on Windows.
[assembly: UnsupportedOSPlatform("windows")]

namespace MachTransport.Tests;

/// <summary>Gives each test run its own bootstrap namespace and system domain, inherited by every child process it starts.</summary>
internal static class TestEnvironment
{
    public static string BootstrapDirectory { get; private set; } = string.Empty;

    /// <summary>The run's system domain: not made here; a root server's first system check-in makes it (root's, 0755).</summary>
    public static string SystemDirectory { get; private set; } = string.Empty;

    [ModuleInitializer]
    internal static void IsolateBootstrapNamespace()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // on macOS the namespace is launchd's
        }

        BootstrapDirectory = Path.Combine(Path.GetTempPath(), $"machtransport-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(BootstrapDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Environment.SetEnvironmentVariable("MACHTRANSPORT_BOOTSTRAP_DIR", BootstrapDirectory);
        SystemDirectory = BootstrapDirectory + "-system";
        Environment.SetEnvironmentVariable("MACHTRANSPORT_SYSTEM_BOOTSTRAP_DIR", SystemDirectory);
    }

    /// <summary>A service name no other test uses.</summary>
    public static string UniqueServiceName(string purpose) => $"com.machtransport.tests.{purpose}.{Guid.NewGuid():N}"[..Math.Min(100, 40 + purpose.Length)];
}
