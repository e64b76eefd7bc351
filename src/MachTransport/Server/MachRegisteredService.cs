namespace MachTransport;

/// <summary>A name in a bootstrap domain of the Linux emulation, as <see cref="MachServiceRegistry"/> read it.</summary>
public sealed class MachRegisteredService
{
    internal MachRegisteredService(string serviceName, MachBootstrapDomain domain, int? holderPid, bool isListening, string basePath)
    {
        ServiceName = serviceName;
        Domain = domain;
        HolderPid = holderPid;
        IsListening = isListening;
        BasePath = basePath;
    }

    /// <summary>The service name its registrant wrote; the file name (a digest for long names) when the file holds none.</summary>
    public string ServiceName { get; }

    /// <summary>The domain whose directory holds the name.</summary>
    public MachBootstrapDomain Domain { get; }

    /// <summary>
    /// The pid of the process holding the name (the flock on its lock file); 0 when the kernel hides that pid from this
    /// pid namespace; null when nobody holds it: its process exited and the name is stale.
    /// </summary>
    public int? HolderPid { get; }

    /// <summary>Whether the name's look-up socket is there (its registrant creates it right after taking the name).</summary>
    public bool IsListening { get; }

    /// <summary>The name's files without their extension (<c>.lock</c>, <c>.sock</c>).</summary>
    internal string BasePath { get; }
}
