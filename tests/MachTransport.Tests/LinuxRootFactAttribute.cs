using Xunit;

namespace MachTransport.Tests;

/// <summary>A test that runs a child as another user (<c>setpriv</c>, which needs root): skipped elsewhere, with the reason.</summary>
internal sealed class LinuxRootFactAttribute : FactAttribute
{
    public LinuxRootFactAttribute() => Skip = LinuxFactAttribute.SkipUnlessLinux
        ?? (MachLayer.NativeIds.geteuid() != 0 ? "Runs a child as user nobody with setpriv, which needs root; this run is not root." : null)
        ?? (!File.Exists("/usr/bin/setpriv") ? "Runs a child as user nobody with /usr/bin/setpriv, which this machine lacks." : null);
}
