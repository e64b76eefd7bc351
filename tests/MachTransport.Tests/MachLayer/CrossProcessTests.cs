using System.Diagnostics;
using System.Security.Cryptography;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>The Mach layer between real processes: bootstrap, rights, OOL memory, credentials, peer death.</summary>
[Trait("Category", "CrossProcess")]
public class CrossProcessTests
{
    private const string Peer = "MachTransport.MachPeer";

    [Fact]
    public async Task ANameRegisteredInOneProcessIsFoundInAnotherAndTheTrailerNamesTheRealSender()
    {
        string name = TestEnvironment.UniqueServiceName("whoami");
        await using ChildProcess peer = ChildProcess.Start(Peer, "serve", name);
        await peer.ExpectLineAsync("READY");

        using MachSendRight service = MachBootstrap.LookUp(Kernel, name);
        using MachReceiveRight replies = MachReceiveRight.Allocate(Kernel);
        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, 1, replyPort: replies.Name, replyDisposition: MachMsgTypeName.MakeSendOnce));

        ReceivedMessage reply = Receive(replies.Name);
        Assert.Equal(MachMsgReturn.Success, reply.Result);
        Assert.Equal(101, reply.Header.Id);
        Assert.Equal(peer.Id, reply.Trailer.Audit.Pid);
        Assert.Equal(CurrentUid, reply.Trailer.Audit.EffectiveUid);
        Assert.Equal(CurrentUid, reply.Trailer.SenderUid);
        // What the peer says of itself, and what its trailer said of us.
        Assert.Equal(peer.Id, BitConverter.ToInt32(reply.Body, 0));
        Assert.Equal(Environment.ProcessId, BitConverter.ToInt32(reply.Body, 8));
        Assert.Equal(CurrentUid, BitConverter.ToUInt32(reply.Body, 12));
    }

    [Fact]
    public async Task RightsAndOutOfLineMemoryCrossTheProcessBoundary()
    {
        string name = TestEnvironment.UniqueServiceName("hash");
        await using ChildProcess peer = ChildProcess.Start(Peer, "serve", name);
        await peer.ExpectLineAsync("READY");

        using MachSendRight service = MachBootstrap.LookUp(Kernel, name);
        using MachReceiveRight answers = MachReceiveRight.Allocate(Kernel);
        const int Size = 8 * 1024 * 1024;
        byte[] expected;
        using (MachOolRegion region = MachOolRegion.Allocate(Kernel, Size))
        {
            RandomNumberGenerator.Fill(region.Span);
            expected = SHA256.HashData(region.Span);
            Assert.Equal(MachMsgReturn.Success, Send(
                service.Name,
                MachMsgTypeName.CopySend,
                2,
                attachments: [Attachment.Port(answers.Name, MachMsgTypeName.MakeSend), Attachment.Memory(region.Address, Size, deallocate: true)]));
            region.Detach();
        }

        ReceivedMessage answer = Receive(answers.Name);
        Assert.Equal(MachMsgReturn.Success, answer.Result);
        Assert.Equal(3, answer.Header.Id);
        Assert.Equal(peer.Id, answer.Trailer.Audit.Pid);
        Assert.Equal(peer.Id, BitConverter.ToInt32(answer.Body, 0));
        Assert.Equal(expected, answer.Body.AsSpan(4, 32).ToArray());
    }

    [Fact]
    public async Task ALookUpFromAChildReachesANameThisProcessRegistered()
    {
        string name = TestEnvironment.UniqueServiceName("call");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using ChildProcess peer = ChildProcess.Start(Peer, "call", name);
        string hash = await peer.ReadLineAsync();

        ReceivedMessage message = Receive(service.Name);
        Assert.Equal(MachMsgReturn.Success, message.Result);
        Assert.Equal(4, message.Header.Id);
        Assert.Equal(peer.Id, message.Trailer.Audit.Pid);
        Assert.Equal(peer.Id, BitConverter.ToInt32(message.Body));
        MachDescriptor memory = Assert.Single(message.Descriptors);
        using var region = new MachOolRegion(Kernel, memory.Address, memory.Size);
        Assert.Equal(hash, Convert.ToHexString(SHA256.HashData(region.Span)));
        await peer.WaitForExitAsync();
        Assert.Equal(0, peer.ExitCode);
    }

    [Fact]
    public async Task ASecondLiveRegistrationOfTheSameNameFailsClearly()
    {
        string name = TestEnvironment.UniqueServiceName("taken");
        await using ChildProcess holder = ChildProcess.Start(Peer, "hold", name);
        await holder.ExpectLineAsync("READY");

        MachBootstrapException error = Assert.Throws<MachBootstrapException>(() => MachBootstrap.CheckIn(Kernel, name).Dispose());
        Assert.Equal((int)BootstrapStatus.ServiceActive, error.Status);
        Assert.Contains("already registered by another running process", error.Message, StringComparison.Ordinal);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANameLeftByAKilledProcessIsReclaimedByTheNextRegistrant()
    {
        string name = TestEnvironment.UniqueServiceName("reclaim");
        await using ChildProcess holder = ChildProcess.Start(Peer, "hold", name);
        await holder.ExpectLineAsync("READY");
        await holder.KillAsync();

        // Until someone registers again, a look-up finds nobody.
        MachBootstrapException missing = Assert.Throws<MachBootstrapException>(() => MachBootstrap.LookUp(Kernel, name).Dispose());
        Assert.Equal((int)BootstrapStatus.UnknownService, missing.Status);

        using MachReceiveRight reclaimed = MachBootstrap.CheckIn(Kernel, name);
        using MachSendRight found = MachBootstrap.LookUp(Kernel, name);
        Assert.Equal(MachMsgReturn.Success, Send(found.Name, MachMsgTypeName.CopySend, 8));
        Assert.Equal(8, Receive(reclaimed.Name).Header.Id);
    }

    [Fact]
    public async Task ADeadNameNotificationFollowsSigkillWithoutWaitingForATimeout()
    {
        string name = TestEnvironment.UniqueServiceName("dead");
        await using ChildProcess peer = ChildProcess.Start(Peer, "serve", name);
        await peer.ExpectLineAsync("READY");
        using MachSendRight service = MachBootstrap.LookUp(Kernel, name);
        using MachReceiveRight notify = MachReceiveRight.Allocate(Kernel);
        Assert.Equal(KernReturn.Success, Kernel.RequestNotification(service.Name, MachNotifyId.DeadName, 1, notify.Name, MachMsgTypeName.MakeSendOnce, out uint previous));
        Assert.Equal(MachPort.Null, previous);

        Task<ReceivedMessage> notification = Task.Factory.StartNew(() => Receive(notify.Name, timeoutMilliseconds: 10_000), TaskCreationOptions.LongRunning);
        await peer.KillAsync(); // returns once the kernel has reaped it: its sockets are gone
        var clock = Stopwatch.StartNew();
        ReceivedMessage message = await notification.WaitAsync(TimeSpan.FromSeconds(15));
        TimeSpan latency = clock.Elapsed;

        Assert.Equal(MachMsgReturn.Success, message.Result);
        Assert.Equal(MachNotifyId.DeadName, message.Header.Id);
        Assert.Equal(service.Name, BitConverter.ToUInt32(message.Body, 8));
        // Success (not MACH_RCV_TIMED_OUT) already shows it came before the 10 s receive timeout. Event-driven (the dead
        // process's sockets hang up), it is typically there before the reaped process is; the bound, counted from the
        // reaping, only rules out a periodic check and tolerates a loaded 2-core machine (2 s from before the kill
        // failed at 2,350 ms with a load average of 140: the kill and the reaping were the slow part).
        Assert.True(latency < TimeSpan.FromSeconds(5), $"the dead-name notification came {latency.TotalMilliseconds:F1} ms after the peer was reaped");
        Assert.Equal(MachMsgReturn.SendInvalidDest, Send(service.Name, MachMsgTypeName.CopySend, 9));
        Assert.Equal(KernReturn.Success, Kernel.Deallocate(service.Name)); // the notification's extra reference; `service` drops its own
    }

    [LinuxFact]
    public async Task TheRegistryDirectoryIsCreatedPrivateToTheUser()
    {
        string directory = Path.Combine(TestEnvironment.BootstrapDirectory, "fresh-" + Guid.NewGuid().ToString("N")[..8]);
        var environment = new Dictionary<string, string> { ["MACHTRANSPORT_BOOTSTRAP_DIR"] = directory };
        await using ChildProcess holder = ChildProcess.Start(Peer, environment, "hold", "com.example.private");
        await holder.ExpectLineAsync("READY");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
        Assert.True(File.Exists(Path.Combine(directory, "com.example.private.sock")));
    }

    [LinuxFact]
    public async Task ARegistryDirectoryOpenToOthersIsRefused()
    {
        string directory = Path.Combine(TestEnvironment.BootstrapDirectory, "open-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory, (UnixFileMode)0x1ED /* 0755 */);
        var environment = new Dictionary<string, string> { ["MACHTRANSPORT_BOOTSTRAP_DIR"] = directory };
        await using ChildProcess holder = ChildProcess.Start(Peer, environment, "hold", "com.example.exposed");
        await holder.WaitForExitAsync();

        Assert.NotEqual(0, holder.ExitCode);
        string error = await holder.ReadErrorAsync();
        Assert.Contains("must be a directory owned by this user with mode 0700", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory, "com.example.exposed.sock")));
    }

    private static uint CurrentUid => ProcessUser.Uid;
}
