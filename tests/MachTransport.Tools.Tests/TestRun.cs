using System.Runtime.CompilerServices;
using System.Runtime.Versioning;

// Mach runs on macOS and, emulated, on Linux: never on Windows.
[assembly: UnsupportedOSPlatform("windows")]

namespace MachTransport.Tools.Tests;

internal static class TestRun
{
    /// <summary>The run's own bootstrap namespace, before any test can touch a registry.</summary>
    [ModuleInitializer]
    internal static void Isolate() => TestEnvironment.Isolate();
}
