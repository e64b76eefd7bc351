using System.Diagnostics;
using MachTransport.Mach.Linux;
using Xunit;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// Where the Linux emulation's bootstrap namespace lives: every process of a user must find the same directory
/// whatever another user does, and a directory path of any length must work for servers and clients alike.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class RegistryDirectoryTests
{
    private const string Peer = "MachTransport.MachPeer";
    private const int Nobody = 65534;

    [LinuxFact]
    public void TheDirectoryDependsOnlyOnThisUsersOwnSettings()
    {
        string scratch = Directory.CreateTempSubdirectory("mt-").FullName;
        try
        {
            uint uid = ProcessUser.Uid;
            string home = Path.Combine(scratch, "home");
            string shared = Path.Combine(scratch, $"machtransport-{uid}");
            string fallback = Path.Combine(home, ".machtransport");
            Assert.Equal("/configured", LinuxBootstrap.ResolveRegistryDirectory("/configured", "/run/user/1", scratch, home, uid));
            Assert.Equal("/run/user/1/machtransport", LinuxBootstrap.ResolveRegistryDirectory(null, "/run/user/1", scratch, home, uid));

            // No home directory of this user: the per-user name in the temporary directory (refused at use, with a
            // message, when it is not this user's private directory).
            Assert.Equal(shared, LinuxBootstrap.ResolveRegistryDirectory(null, null, scratch, home, uid));
            Assert.Equal(shared, LinuxBootstrap.ResolveRegistryDirectory(null, null, scratch, null, uid));
            Directory.CreateDirectory(home);
            Assert.EndsWith($"machtransport-{uid + 1}", LinuxBootstrap.ResolveRegistryDirectory(null, null, scratch, home, uid + 1), StringComparison.Ordinal); // not that user's home

            // With one, the home directory, whatever exists in the temporary directory.
            Assert.Equal(fallback, LinuxBootstrap.ResolveRegistryDirectory(null, null, scratch, home, uid));
            Directory.CreateDirectory(shared, (UnixFileMode)0x1FF); // 0777, as a squatter would leave it
            Assert.Equal(fallback, LinuxBootstrap.ResolveRegistryDirectory(null, null, scratch, home, uid));
            Directory.Delete(shared);
            Assert.Equal(fallback, LinuxBootstrap.ResolveRegistryDirectory(null, null, scratch, home, uid));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// Issue 16 item 10: another user creating, then removing, the predictable directory in /tmp split a server (which
    /// passed over the squatted name to the home directory) from its clients (which, after the removal, did not).
    /// </summary>
    [LinuxRootFact]
    public async Task AnotherUserCreatingAndRemovingTheTemporaryNameNeverSplitsAServerFromItsClients()
    {
        string scratch = Directory.CreateTempSubdirectory("mt-").FullName;
        try
        {
            File.SetUnixFileMode(scratch, (UnixFileMode)0x3FF); // 01777, a temporary directory other users can write in
            string home = Directory.CreateDirectory(Path.Combine(scratch, "home")).FullName;
            string squatted = Path.Combine(scratch, $"machtransport-{ProcessUser.Uid}");
            var environment = new Dictionary<string, string>
            {
                [LinuxBootstrap.DirectoryVariable] = string.Empty,
                ["XDG_RUNTIME_DIR"] = string.Empty,
                ["TMPDIR"] = scratch + "/",
                ["HOME"] = home,
            };
            string name = TestEnvironment.UniqueServiceName("split");

            await RunAsNobodyAsync("mkdir", "-m", "0777", squatted);
            await using ChildProcess server = ChildProcess.Start(Peer, environment, "hold", name);
            await server.ExpectLineAsync("READY");
            await RunAsNobodyAsync("rmdir", squatted);

            await using ChildProcess client = ChildProcess.Start(Peer, environment, "send-inline", name, "1");
            await client.ExpectLineAsync("Success");
            Assert.False(Directory.Exists(squatted)); // and no client made it again
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// Issue 16 item 11: a 64-byte registry directory and a name that needs hashing made the socket path longer than
    /// <c>sun_path</c>, and check-in and look-up threw ArgumentException (the process died).
    /// </summary>
    [LinuxFact]
    public async Task ARegistryPathLongerThanASocketAddressWorksForServerAndClient()
    {
        string scratch = Directory.CreateTempSubdirectory("mt-").FullName;
        try
        {
            string directory = Path.Combine(scratch, new string('d', 110));
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var environment = new Dictionary<string, string>
            {
                [LinuxBootstrap.DirectoryVariable] = directory,
                ["TMPDIR"] = directory + "/",
            };
            string name = TestEnvironment.UniqueServiceName("long path") + " (hashed)";
            Assert.StartsWith("h.", LinuxBootstrap.FileNameFor(directory, name), StringComparison.Ordinal);

            await using ChildProcess server = ChildProcess.Start(Peer, environment, "hold", name);
            await server.ExpectLineAsync("READY");
            await using ChildProcess client = ChildProcess.Start(Peer, environment, "send-inline", name, "1");
            await client.ExpectLineAsync("Success");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// Issue 19 item 7: a process refused its registry directory made a private directory for its ports,
    /// <c>machtransport-ports-XXXXXX</c> in the temporary directory, and left it there when it exited.
    /// </summary>
    [LinuxFact]
    public async Task AProcessRefusedItsRegistryDirectoryLeavesNoDirectoryBehind()
    {
        string scratch = Directory.CreateTempSubdirectory("mt-").FullName;
        try
        {
            string refused = Directory.CreateDirectory(Path.Combine(scratch, "registry"), (UnixFileMode)0x1ED).FullName; // 0755: not private
            string temporary = Directory.CreateDirectory(Path.Combine(scratch, "tmp")).FullName;
            var environment = new Dictionary<string, string> { [LinuxBootstrap.DirectoryVariable] = refused, ["TMPDIR"] = temporary + "/" };

            await using ChildProcess process = ChildProcess.Start(Peer, environment, "cycles", "3");
            Assert.StartsWith("fds ", await process.ReadLineAsync(), StringComparison.Ordinal);
            await process.WaitForExitAsync();

            Assert.Empty(Directory.GetFileSystemEntries(temporary));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task RunAsNobodyAsync(params string[] command)
    {
        var info = new ProcessStartInfo("/usr/bin/setpriv") { UseShellExecute = false };
        foreach (string argument in (string[])[$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", .. command])
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, process.ExitCode);
    }
}
