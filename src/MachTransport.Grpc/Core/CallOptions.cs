namespace MachTransport.Grpc;

/// <summary>Per-call options: headers, deadline, cancellation.</summary>
/// <param name="Headers">Request headers, or null.</param>
/// <param name="Deadline">The UTC deadline, or null for none.</param>
/// <param name="CancellationToken">Cancels the call.</param>
public readonly record struct CallOptions(Metadata? Headers = null, DateTime? Deadline = null, CancellationToken CancellationToken = default);
