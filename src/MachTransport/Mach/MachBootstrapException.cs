namespace MachTransport;

/// <summary>
/// A bootstrap (service name) operation failed: for a client, most often a service that is not registered. An
/// <see cref="IOException"/>, as a socket's connect failure would be, so gRPC reports it as <c>Unavailable</c>.
/// </summary>
public sealed class MachBootstrapException : IOException
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

    /// <summary>Whether another live server holds the name (BOOTSTRAP_SERVICE_ACTIVE, or NAME_IN_USE from a register).</summary>
    internal bool IsNameTaken => Status is (int)Mach.Abi.BootstrapStatus.ServiceActive or (int)Mach.Abi.BootstrapStatus.NameInUse;
}
