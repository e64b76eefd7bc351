namespace MachTransport;

/// <summary>The server refused the connection: its peer policy does not admit this process, it is full, or it is shutting down.</summary>
public sealed class MachConnectionRejectedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException(string message, string serviceName, MachRejectReason reason)
        : base(message)
    {
        ServiceName = serviceName;
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException() : this("The Mach service rejected the connection.", string.Empty, MachRejectReason.Unspecified) { }

    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException(string message) : this(message, string.Empty, MachRejectReason.Unspecified) { }

    /// <summary>Creates the exception.</summary>
    public MachConnectionRejectedException(string message, Exception innerException) : base(message, innerException) => ServiceName = string.Empty;

    /// <summary>The service that refused.</summary>
    public string ServiceName { get; }

    /// <summary>Why the server refused, from its REJECT message (a code this version does not know keeps its number).</summary>
    public MachRejectReason Reason { get; }
}
