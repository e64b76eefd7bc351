namespace MachTransport.Client;

/// <summary>The server refused the connection: its peer policy does not admit this process, it is full, or it is shutting down.</summary>
public sealed class MachConnectionRejectedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException(string message, string serviceName, int reasonCode)
        : base(message)
    {
        ServiceName = serviceName;
        ReasonCode = reasonCode;
    }

    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException() : this("The Mach service rejected the connection.", string.Empty, 0) { }

    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException(string message) : this(message, string.Empty, 0) { }

    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException(string message, Exception innerException) : base(message, innerException) => ServiceName = string.Empty;

    /// <summary>The service that refused.</summary>
    public string ServiceName { get; }

    /// <summary>The reason code from the REJECT message (docs/protocol.md): 1 version mismatch, 2 peer not allowed, 3 server busy, 4 shutting down.</summary>
    public int ReasonCode { get; }
}
