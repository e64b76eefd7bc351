namespace MachTransport.Testing;

/// <summary>
/// Gives each test run its own bootstrap namespace and system domain, inherited by every child process it starts. Each
/// test assembly calls <see cref="Isolate"/> from its module initializer, before any test can touch a registry.
/// </summary>
public static class TestEnvironment
{
    // Set for the children of a run: a child that is itself a test assembly ("serve" mode) keeps its parent's namespace.
    private const string RunVariable = "MACHTRANSPORT_TEST_RUN";

    public static string BootstrapDirectory { get; private set; } = string.Empty;

    /// <summary>The run's system domain: not made here; a root server's first system check-in makes it (root's, 0755).</summary>
    public static string SystemDirectory { get; private set; } = string.Empty;

    public static void Isolate()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // on macOS the namespace is launchd's
        }

        if (Environment.GetEnvironmentVariable(RunVariable) is not null)
        {
            BootstrapDirectory = Environment.GetEnvironmentVariable("MACHTRANSPORT_BOOTSTRAP_DIR") ?? string.Empty;
            SystemDirectory = Environment.GetEnvironmentVariable("MACHTRANSPORT_SYSTEM_BOOTSTRAP_DIR") ?? string.Empty;
            return;
        }

        BootstrapDirectory = Path.Combine(Path.GetTempPath(), $"machtransport-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(BootstrapDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Environment.SetEnvironmentVariable("MACHTRANSPORT_BOOTSTRAP_DIR", BootstrapDirectory);
        SystemDirectory = BootstrapDirectory + "-system";
        Environment.SetEnvironmentVariable("MACHTRANSPORT_SYSTEM_BOOTSTRAP_DIR", SystemDirectory);
        Environment.SetEnvironmentVariable(RunVariable, "1");
    }

    /// <summary>A service name no other test uses.</summary>
    public static string UniqueServiceName(string purpose) => $"com.machtransport.tests.{purpose}.{Guid.NewGuid():N}"[..Math.Min(100, 40 + purpose.Length)];
}
