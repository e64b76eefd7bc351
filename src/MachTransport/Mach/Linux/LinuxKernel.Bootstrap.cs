using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The IPC space's side of the bootstrap namespace: check-in and look-up go to <see cref="LinuxBootstrap"/>, which
/// comes back here for descriptors of a port to hand out (as do tests and the fuzzer that write raw datagrams), for a
/// send right that arrived outside a message, and to tie a service name to its receive right.
/// </summary>
internal sealed partial class LinuxKernel
{
    public BootstrapStatus BootstrapCheckIn(string serviceName, bool systemDomain, out uint receiveRight)
        => _bootstrap.CheckIn(serviceName, systemDomain ? BootstrapDomain.System : BootstrapDomain.User, out receiveRight);

    public BootstrapStatus BootstrapLookUp(string serviceName, out uint sendRight) => _bootstrap.LookUp(serviceName, out sendRight);

    public bool BootstrapNameHeld(uint receiveRight)
    {
        BootstrapRegistration? registration;
        lock (_lock)
        {
            registration = _ports.TryGetValue(receiveRight, out PortEntry? entry) ? entry.Service : null;
        }

        // A registry directory opened to others (or made a link) turns every look-up away, whatever the files in it.
        return registration is null || (registration.Domain.Ensure(create: false) is not null && LinuxBootstrap.StillHolds(registration));
    }

    public string BootstrapDenialReason =>
        $"the registry directory '{LinuxBootstrap.RegistryDirectory}' must be a directory owned by this user with mode 0700 (set XDG_RUNTIME_DIR or MACHTRANSPORT_BOOTSTRAP_DIR to use another); "
        + $"the system domain's, '{BootstrapDomain.System.Path}', a directory owned by root that only root can write, and only root registers names in it.";

    public string ResourceShortageReason =>
        "this process or the service's has no descriptor free, or this user's budget of descriptors in flight is used up: "
        + "descriptors passed in messages that nobody has received yet, at most RLIMIT_NOFILE per user (sendmsg fails with "
        + "ETOOMANYREFS), which any process of this user can hold by leaving such messages unread.";

    /// <summary>
    /// A descriptor of the <c>O_PATH</c> of the port <paramref name="name"/> names (what the bootstrap listener hands out);
    /// invalid when none is free or the name no longer names a port (another thread may release it meanwhile).
    /// </summary>
    internal LinuxFd DuplicatePath(uint name)
    {
        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry) || entry.Path is null)
            {
                return new LinuxFd(-1);
            }

            using LinuxFd.Lease lease = entry.Path.Acquire();
            return new LinuxFd(Libc.dup(lease.Number));
        }
    }

    /// <summary>
    /// A new connection of its own to the port <paramref name="name"/> names, as a holder's (tests and the fuzzer write raw
    /// datagrams on it); invalid on failure or when the name no longer names a port.
    /// </summary>
    internal LinuxFd DuplicateSendEnd(uint name)
    {
        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry) || entry.Path is null)
            {
                return new LinuxFd(-1);
            }

            using LinuxFd.Lease lease = entry.Path.Acquire();
            return PortSocket.Connect(lease.Number, out LinuxFd? connection) == 0 ? connection! : new LinuxFd(-1);
        }
    }

    /// <summary>Ties a bootstrap name to the receive right checked in under it: destroying the right releases the name.</summary>
    internal void AttachService(uint receiveRight, BootstrapRegistration registration)
    {
        lock (_lock)
        {
            _ports[receiveRight].Service = registration;
        }
    }

    /// <summary>A send right that arrived outside a message (bootstrap look-up); MACH_PORT_DEAD if its port is dead.</summary>
    internal uint InstallSendRight(int path)
    {
        lock (_lock)
        {
            PortEntry entry = EntryFor(path);
            entry.SendUrefs++;
            return Connected(entry);
        }
    }
}
