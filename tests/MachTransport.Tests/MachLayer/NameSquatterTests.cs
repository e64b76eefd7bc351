using System.Runtime.InteropServices;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// A same-user process that puts something of its own where a service name's socket file belongs: a listener that
/// never accepts, or a link to another service's socket. Neither may hang a look-up nor outlive the process that made it.
/// Nor may opening the registry directory to others, which turns every look-up away, go unnoticed by the name's server.
/// </summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)] // one test opens the registry directory every test of this process shares
public sealed partial class NameSquatterTests
{
    private const string Peer = "MachTransport.MachPeer";

    [LinuxFact]
    public async Task ALookUpOfANameWhoseListenerNeverAcceptsFailsInTime()
    {
        string name = TestEnvironment.UniqueServiceName("squatter");
        var squatter = new List<LinuxFd>();
        try
        {
            FillListener(RegistryFile(name, ".sock"), squatter);
            Task<BootstrapStatus> lookUp = Task.Factory.StartNew(() => Kernel.BootstrapLookUp(name, out _), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Assert.Equal(BootstrapStatus.UnknownService, await lookUp.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            squatter.ForEach(socket => socket.Dispose());
        }

        // The squatter gone, the name is checked in and reached as any other.
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using ChildProcess client = ChildProcess.Start(Peer, "send-inline", name, "1");
        await client.ExpectLineAsync("Success");
        Assert.Equal(11, Receive(service.Name).Header.Id);
    }

    [LinuxTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALinkLeftAtANameToAnotherServiceDoesNotKeepTheNameFromItsServer(bool hard)
    {
        string other = TestEnvironment.UniqueServiceName("linked-to");
        string name = TestEnvironment.UniqueServiceName("link");
        using MachReceiveRight otherService = MachBootstrap.CheckIn(Kernel, other);
        if (hard) // its maker may be long gone
        {
            Assert.Equal(0, link(RegistryFile(other, ".sock"), RegistryFile(name, ".sock")));
        }
        else
        {
            File.CreateSymbolicLink(RegistryFile(name, ".sock"), RegistryFile(other, ".sock"));
        }

        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using ChildProcess client = ChildProcess.Start(Peer, "send-inline", name, "1");
        await client.ExpectLineAsync("Success");
        Assert.Equal(11, Receive(service.Name).Header.Id);
    }

    [LinuxFact]
    public async Task ARegistryDirectoryOpenedToOthersIsANameLostToItsServer()
    {
        string name = TestEnvironment.UniqueServiceName("opened");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        string directory = LinuxBootstrap.RegistryDirectory;
        UnixFileMode mode = File.GetUnixFileMode(directory);
        Assert.True(Kernel.BootstrapNameHeld(service.Name));
        File.SetUnixFileMode(directory, mode | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try
        {
            Assert.Equal(BootstrapStatus.NotPrivileged, Kernel.BootstrapLookUp(name, out _)); // no look-up reaches the server
            Assert.False(Kernel.BootstrapNameHeld(service.Name));
        }
        finally
        {
            File.SetUnixFileMode(directory, mode);
        }

        await using ChildProcess client = ChildProcess.Start(Peer, "send-inline", name, "1");
        await client.ExpectLineAsync("Success");
        Assert.Equal(11, Receive(service.Name).Header.Id);
    }

    /// <summary>A listener bound at <paramref name="path"/> and connections that fill its backlog, into <paramref name="sockets"/>: a connect finds no room until they are closed.</summary>
    private static void FillListener(string path, List<LinuxFd> sockets)
    {
        var listener = new LinuxFd(Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0));
        sockets.Add(listener);
        Assert.Equal(0, SocketPath.Bind(listener.Number, path));
        Assert.Equal(0, Libc.listen(listener.Number, 0));
        while (true)
        {
            var connection = new LinuxFd(Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0));
            sockets.Add(connection);
            int error = SocketPath.Connect(connection.Number, path);
            if (error != 0)
            {
                Assert.Equal(Libc.EAGAIN, error);
                return;
            }

            Assert.True(sockets.Count < 64, "the listener's backlog never filled");
        }
    }

    private static string RegistryFile(string name, string extension)
    {
        string directory = BootstrapDomain.User.Ensure(create: true)!;
        return Path.Combine(directory, LinuxBootstrap.FileNameFor(directory, name) + extension);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existing, string newPath);
}
