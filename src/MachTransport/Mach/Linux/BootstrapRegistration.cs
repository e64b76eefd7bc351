namespace MachTransport.Mach.Linux;

/// <summary>A service name this process holds: the held lock, the listening socket and the port's <c>O_PATH</c> it hands out.</summary>
internal sealed class BootstrapRegistration
{
    public BootstrapRegistration(string serviceName, string socketPath, LinuxFd lockFile, LinuxFd listener, LinuxFd servicePath)
    {
        ServiceName = serviceName;
        SocketPath = socketPath;
        LockFile = lockFile;
        Listener = listener;
        ServicePath = servicePath;
    }

    public string ServiceName { get; }

    public string SocketPath { get; }

    public LinuxFd LockFile { get; }

    public LinuxFd Listener { get; }

    /// <summary>A descriptor of the service port's <c>O_PATH</c>: what a look-up is handed (a send right).</summary>
    public LinuxFd ServicePath { get; }

    public ulong MonitorKey { get; set; }
}
