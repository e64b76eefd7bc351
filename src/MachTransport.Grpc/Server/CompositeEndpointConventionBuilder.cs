using Microsoft.AspNetCore.Builder;

namespace MachTransport.Grpc.Server;

/// <summary>Applies a convention (authorization, metadata, ...) to every endpoint of a service.</summary>
internal sealed class CompositeEndpointConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
{
    public void Add(Action<EndpointBuilder> convention)
    {
        foreach (IEndpointConventionBuilder builder in builders)
        {
            builder.Add(convention);
        }
    }
}
