namespace MachTransport.Mach.Linux;

/// <summary>A service name this process holds: the held lock, the listening socket and the send end it hands out.</summary>
internal sealed class BootstrapRegistration
{
    private readonly object _lock = new();

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

    /// <summary>The send end handed out; replaced when the port is renewed (read on the kernel thread only).</summary>
    public LinuxFd ServiceSend { get; private set; }

    public ulong MonitorKey { get; set; }

    /// <summary>Hands out <paramref name="send"/> from now on (on the kernel thread); after <see cref="Close"/> it is just closed.</summary>
    public void ReplaceServiceSend(LinuxFd send)
    {
        lock (_lock)
        {
            LinuxFd old = Listener.IsClosed ? send : ServiceSend;
            if (!Listener.IsClosed)
            {
                ServiceSend = send;
            }

            old.Dispose();
        }
    }

    /// <summary>Closes the listener, the send end and the lock (the name is released).</summary>
    public void Close()
    {
        lock (_lock)
        {
            Listener.Dispose();
            ServiceSend.Dispose();
            LockFile.Dispose();
        }
    }
}
