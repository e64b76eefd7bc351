using System.Net;

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

    /// <inheritdoc />
    public override string ToString() => $"mach:{ServiceName}";

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MachEndPoint other && string.Equals(ServiceName, other.ServiceName, StringComparison.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ServiceName);
}
