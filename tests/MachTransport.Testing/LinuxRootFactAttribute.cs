using Xunit;

namespace MachTransport.Testing;

/// <summary>A test that runs a child as another user (<c>setpriv</c>, which needs root): skipped elsewhere, with the reason.</summary>
public sealed class LinuxRootFactAttribute : FactAttribute
{
    public LinuxRootFactAttribute() => Skip = LinuxFactAttribute.SkipUnlessLinux
        ?? (ProcessUser.Uid != 0 ? "Runs a child as another user with setpriv, which needs root; this run is not root." : null)
        ?? (!File.Exists(Nobody.Launcher[0]) ? $"Runs a child as another user with {Nobody.Launcher[0]}, which this machine lacks." : null);
}
