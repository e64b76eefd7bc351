namespace MachTransport.Mach.Linux;

/// <summary>A service name this process holds: the held lock, the listening socket and the send end it hands out.</summary>
internal sealed class BootstrapRegistration
{
    public BootstrapRegistration(string serviceName, string socketPath, LinuxFd lockFile, LinuxFd listener, LinuxFd serviceSend)
    {
        ServiceName = serviceName;
        SocketPath = socketPath;
        LockFile = lockFile;
        Listener = listener;
        ServiceSend = serviceSend;
    }

    public string ServiceName { get; }

    public string SocketPath { get; }

    public LinuxFd LockFile { get; }

    public LinuxFd Listener { get; }

    public LinuxFd ServiceSend { get; }

    public ulong MonitorKey { get; set; }
}
