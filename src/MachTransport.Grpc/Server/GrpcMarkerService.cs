namespace MachTransport.Grpc.Server;

/// <summary>Registered by AddGrpc: proves it was called, and remembers that the catch-all route exists.</summary>
internal sealed class GrpcMarkerService
{
    public bool UnimplementedServiceMapped { get; set; }
}
