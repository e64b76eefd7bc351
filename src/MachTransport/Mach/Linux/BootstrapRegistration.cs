namespace MachTransport.Mach.Linux;

/// <summary>A service name this process holds: the held lock, the listening socket (and which file it is bound to) and the port's <c>O_PATH</c> it hands out.</summary>
internal sealed class BootstrapRegistration
{
    public BootstrapRegistration(string serviceName, BootstrapDomain domain, string socketPath, PortIdentity socketFile, LinuxFd lockFile, LinuxFd listener, LinuxFd servicePath)
    {
        ServiceName = serviceName;
        Domain = domain;
        SocketPath = socketPath;
        SocketFile = socketFile;
        LockFile = lockFile;
        Listener = listener;
        ServicePath = servicePath;
    }

    public string ServiceName { get; }

    /// <summary>The domain the name is registered in.</summary>
    public BootstrapDomain Domain { get; }

    public string SocketPath { get; }

    /// <summary>The (device, inode) of the socket file the listener was bound to: look-ups reach it while the path names it.</summary>
    public PortIdentity SocketFile { get; }

    public LinuxFd LockFile { get; }

    public LinuxFd Listener { get; }

    /// <summary>A descriptor of the service port's <c>O_PATH</c>: what a look-up is handed (a send right).</summary>
    public LinuxFd ServicePath { get; }

    public ulong MonitorKey { get; set; }
}
