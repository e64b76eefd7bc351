using System.Net;
using System.Net.Sockets;

namespace MachTransport.Server;

/// <summary>An endpoint naming a Mach service in the per-user bootstrap namespace, e.g. <c>com.example.greeter</c>.</summary>
public sealed class MachEndPoint : EndPoint
{
    /// <summary>Creates an endpoint for <paramref name="serviceName"/>.</summary>
    public MachEndPoint(string serviceName)
    {
        Mach.MachBootstrap.ValidateServiceName(serviceName, nameof(serviceName));
        ServiceName = serviceName;
    }

    /// <summary>The service name.</summary>
    public string ServiceName { get; }

    /// <summary>
    /// <see cref="AddressFamily.Unspecified"/>: a Mach port is no socket address. Kestrel's connection metrics read this
    /// (as <c>network.transport</c>) for endpoints it does not know; the base class would throw and stop accepting.
    /// </summary>
    public override AddressFamily AddressFamily => AddressFamily.Unspecified;

    /// <inheritdoc />
    public override string ToString() => $"mach:{ServiceName}";

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MachEndPoint other && string.Equals(ServiceName, other.ServiceName, StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ServiceName);
}
