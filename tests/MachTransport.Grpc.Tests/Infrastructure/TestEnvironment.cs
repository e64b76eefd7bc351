using System.Runtime.CompilerServices;
using System.Runtime.Versioning;

[assembly: UnsupportedOSPlatform("windows")]

namespace MachTransport.Grpc.Tests.Infrastructure;

/// <summary>Gives each test run its own bootstrap namespace (a fresh 0700 directory) and system domain, inherited by its child processes.</summary>
internal static class TestEnvironment
{
    private const string BootstrapVariable = "MACHTRANSPORT_BOOTSTRAP_DIR";

    // Set by the test run for its children, so a child (this assembly in "serve" mode) keeps the run's namespace.
    private const string OwnerVariable = "MACHTRANSPORT_GRPC_TESTS_RUN";

    [ModuleInitializer]
    internal static void IsolateBootstrapNamespace()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(OwnerVariable) is not null)
        {
            return; // on macOS the namespace is launchd's; a child uses its parent's
        }

        string directory = Path.Combine(Path.GetTempPath(), $"machtransport-grpc-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Environment.SetEnvironmentVariable(BootstrapVariable, directory);
        Environment.SetEnvironmentVariable("MACHTRANSPORT_SYSTEM_BOOTSTRAP_DIR", directory + "-system"); // made by a root server's first system check-in
        Environment.SetEnvironmentVariable(OwnerVariable, "1");
    }

    /// <summary>A Mach service name no other test uses.</summary>
    public static string UniqueServiceName(string purpose) => $"com.machtransport.grpctests.{purpose}.{Guid.NewGuid():N}";
}
