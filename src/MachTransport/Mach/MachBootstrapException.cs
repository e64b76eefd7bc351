namespace MachTransport.Mach;

/// <summary>A bootstrap (service name) operation failed.</summary>
public sealed class MachBootstrapException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MachBootstrapException(string message, string serviceName, int status)
        : base(message)
    {
        ServiceName = serviceName;
        Status = status;
    }

    /// <summary>Creates the exception.</summary>
    public MachBootstrapException() : this("A bootstrap operation failed.", string.Empty, 0) { }

    /// <summary>Creates the exception.</summary>
    public MachBootstrapException(string message) : this(message, string.Empty, 0) { }

    /// <summary>Creates the exception.</summary>
    public MachBootstrapException(string message, Exception innerException) : base(message, innerException) => ServiceName = string.Empty;

    /// <summary>The service name the operation was about.</summary>
    public string ServiceName { get; }

    /// <summary>The bootstrap status (1100 not privileged, 1102 unknown service, 1103 service active, ...).</summary>
    public int Status { get; }
}
