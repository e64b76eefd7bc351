// Where one server process listens, derived from an id and a private directory both processes know.
namespace MachTransport.Benchmarks;

internal sealed record ServerAddresses(string Id, string Directory)
{
    /// <summary>gRPC (HTTP/2) over Mach.</summary>
    public string MachService => $"com.machtransport.bench.{Id}";

    /// <summary>The raw channel echo: bytes back as they come, no HTTP.</summary>
    public string RawMachService => $"com.machtransport.bench.{Id}.raw";

    /// <summary>gRPC (HTTP/2) over a Unix stream socket.</summary>
    public string UdsPath => Path.Combine(Directory, $"{Id}.grpc.sock");

    /// <summary>The raw echo over a Unix stream socket.</summary>
    public string RawUdsPath => Path.Combine(Directory, $"{Id}.raw.sock");

    /// <summary>The floor: a blocking echo over a SEQPACKET socket.</summary>
    public string FloorPath => Path.Combine(Directory, $"{Id}.floor.sock");
}
