using Xunit;

namespace MachTransport.Grpc.Tests.Infrastructure;

/// <summary>A test that runs a child as another user (<c>setpriv</c>, which needs root): skipped elsewhere, with the reason.</summary>
internal sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute() => Skip = !OperatingSystem.IsLinux() ? "Runs a child as another user with setpriv: Linux only."
        : ProcessUser.Uid != 0 ? "Runs a child as another user with setpriv, which needs root; this run is not root."
        : !File.Exists("/usr/bin/setpriv") ? "Runs a child as another user with /usr/bin/setpriv, which this machine lacks."
        : null;
}
