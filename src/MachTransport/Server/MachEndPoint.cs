using System.Net;
using System.Net.Sockets;

namespace MachTransport;

/// <summary>An endpoint naming a Mach service in a bootstrap domain (the user's by default), e.g. <c>com.example.greeter</c>.</summary>
public sealed class MachEndPoint : EndPoint
{
    /// <summary>Creates an endpoint for <paramref name="serviceName"/> in this user's domain.</summary>
    public MachEndPoint(string serviceName)
        : this(serviceName, MachBootstrapDomain.User)
    {
    }

    /// <summary>Creates an endpoint for <paramref name="serviceName"/> in <paramref name="domain"/>.</summary>
    public MachEndPoint(string serviceName, MachBootstrapDomain domain)
    {
        Mach.MachBootstrap.ValidateServiceName(serviceName, nameof(serviceName));
        if (!Enum.IsDefined(domain))
        {
            throw new ArgumentOutOfRangeException(nameof(domain), domain, "The domain is User or System.");
        }

        ServiceName = serviceName;
        Domain = domain;
    }

    /// <summary>The service name.</summary>
    public string ServiceName { get; }

    /// <summary>The bootstrap domain the name is registered in.</summary>
    public MachBootstrapDomain Domain { get; }

    /// <summary>
    /// <see cref="AddressFamily.Unspecified"/>: a Mach port is no socket address. Kestrel's connection metrics read this
    /// (as <c>network.transport</c>) for endpoints it does not know; the base class would throw and stop accepting.
    /// </summary>
    public override AddressFamily AddressFamily => AddressFamily.Unspecified;

    /// <inheritdoc />
    public override string ToString() => Domain == MachBootstrapDomain.System ? $"mach:system/{ServiceName}" : $"mach:{ServiceName}";

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MachEndPoint other && Domain == other.Domain && string.Equals(ServiceName, other.ServiceName, StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Domain, StringComparer.Ordinal.GetHashCode(ServiceName));
}
