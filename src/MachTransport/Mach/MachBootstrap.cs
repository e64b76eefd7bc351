using System.Text;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;

namespace MachTransport.Mach;

/// <summary>Service names: check in (register and receive) and look up (get a send right), with clear errors.</summary>
internal static class MachBootstrap
{
    /// <summary><c>name_t</c> is <c>char[128]</c>: at most 127 bytes and a NUL (mach-abi.md §9).</summary>
    public const int MaxNameBytes = 127;

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="serviceName"/> is a usable service name.</summary>
    public static void ValidateServiceName(string serviceName, string? parameterName = null)
    {
        ArgumentNullException.ThrowIfNull(serviceName, parameterName);
        if (ServiceNameError(serviceName) is string error)
        {
            throw new ArgumentException(error, parameterName ?? nameof(serviceName));
        }
    }

    /// <summary>Why <paramref name="serviceName"/> is no usable service name, as a sentence (machctl prints it as it is); null when it is one.</summary>
    public static string? ServiceNameError(string serviceName)
        => serviceName.Length == 0 || Encoding.UTF8.GetByteCount(serviceName) > MaxNameBytes || serviceName.Contains('\0', StringComparison.Ordinal) || serviceName.Contains('/', StringComparison.Ordinal)
            ? $"'{serviceName}' is not a valid Mach service name: it must be 1 to {MaxNameBytes} UTF-8 bytes without '/' or NUL (reverse-DNS style, such as 'com.example.greeter')."
            : null;

    /// <summary>Registers <paramref name="serviceName"/> for this process (in the system domain: root only) and returns the port clients will reach.</summary>
    public static MachReceiveRight CheckIn(IMachKernel kernel, string serviceName, bool systemDomain = false)
    {
        ValidateServiceName(serviceName);
        BootstrapStatus status = kernel.BootstrapCheckIn(serviceName, systemDomain, out uint name);
        ThrowIfFailed(kernel, status, serviceName, "register");
        return new MachReceiveRight(kernel, name);
    }

    /// <summary>Looks <paramref name="serviceName"/> up and returns a send right to it.</summary>
    public static MachSendRight LookUp(IMachKernel kernel, string serviceName)
    {
        ValidateServiceName(serviceName);
        BootstrapStatus status = kernel.BootstrapLookUp(serviceName, out uint name);
        ThrowIfFailed(kernel, status, serviceName, "look up");
        return new MachSendRight(kernel, name);
    }

    private static void ThrowIfFailed(IMachKernel kernel, BootstrapStatus status, string serviceName, string operation)
    {
        string? message = status switch
        {
            BootstrapStatus.Success => null,
            BootstrapStatus.UnknownService =>
                $"No Mach service named '{serviceName}' is registered (BOOTSTRAP_UNKNOWN_SERVICE): the server is not running or listens under another name.",
            BootstrapStatus.ServiceActive or BootstrapStatus.NameInUse =>
                $"The Mach service name '{serviceName}' is already registered by another running process (BOOTSTRAP_SERVICE_ACTIVE).",
            BootstrapStatus.NoMemory =>
                $"Could not {operation} the Mach service '{serviceName}' for lack of resources (BOOTSTRAP_NO_MEMORY): {kernel.ResourceShortageReason}",
            BootstrapStatus.NotPrivileged =>
                $"Access to the Mach service name '{serviceName}' was denied (BOOTSTRAP_NOT_PRIVILEGED): {kernel.BootstrapDenialReason}",
            _ => $"Could not {operation} the Mach service '{serviceName}': bootstrap status {(int)status}.",
        };
        if (message is not null)
        {
            throw new MachBootstrapException(message, serviceName, (int)status);
        }
    }
}
