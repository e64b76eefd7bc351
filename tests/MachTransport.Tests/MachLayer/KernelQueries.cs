using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Darwin;
using MachTransport.Mach.Linux;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// The queries only tests ask (references, port type, queue limit), on whichever backend runs: they are members of the
/// concrete kernels, not of <see cref="IMachKernel"/>, which holds what the product calls.
/// </summary>
internal static class KernelQueries
{
    /// <summary><c>mach_port_get_refs</c>.</summary>
    public static KernReturn GetRefs(this IMachKernel kernel, uint name, MachPortRight right, out uint refs)
    {
        if (kernel is LinuxKernel linux)
        {
            return linux.GetRefs(name, right, out refs);
        }

        if (OperatingSystem.IsMacOS() && kernel is DarwinKernel darwin)
        {
            return darwin.GetRefs(name, right, out refs);
        }

        throw Unsupported(kernel);
    }

    /// <summary><c>mach_port_type</c>.</summary>
    public static KernReturn GetPortType(this IMachKernel kernel, uint name, out MachPortType type)
    {
        if (kernel is LinuxKernel linux)
        {
            return linux.GetPortType(name, out type);
        }

        if (OperatingSystem.IsMacOS() && kernel is DarwinKernel darwin)
        {
            return darwin.GetPortType(name, out type);
        }

        throw Unsupported(kernel);
    }

    /// <summary><c>mach_port_get_attributes(MACH_PORT_LIMITS_INFO)</c>.</summary>
    public static KernReturn GetQueueLimit(this IMachKernel kernel, uint name, out uint queueLimit)
    {
        if (kernel is LinuxKernel linux)
        {
            return linux.GetQueueLimit(name, out queueLimit);
        }

        if (OperatingSystem.IsMacOS() && kernel is DarwinKernel darwin)
        {
            return darwin.GetQueueLimit(name, out queueLimit);
        }

        throw Unsupported(kernel);
    }

    private static NotSupportedException Unsupported(IMachKernel kernel)
        => new($"No test queries for the backend {kernel.GetType().Name}.");
}
