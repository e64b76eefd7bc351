using Xunit;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>A test of what the samples read in /proc (Linux's process table): skipped where there is none.</summary>
internal sealed class ProcFactAttribute : FactAttribute
{
    public ProcFactAttribute() => Skip = OperatingSystem.IsLinux() ? null : "Reads /proc, which only Linux has.";
}
