using System.Diagnostics.CodeAnalysis;
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

    /// <summary>
    /// Whether <paramref name="serviceName"/> is a valid Mach service name (1 to 127 UTF-8 bytes, no '/' or NUL), for
    /// input checked before use; <paramref name="error"/> then says why not, the sentence the constructor's
    /// <see cref="ArgumentException"/> carries.
    /// </summary>
    public static bool IsValidServiceName(string serviceName, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(serviceName);
        error = Mach.MachBootstrap.ServiceNameError(serviceName);
        return error is null;
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
