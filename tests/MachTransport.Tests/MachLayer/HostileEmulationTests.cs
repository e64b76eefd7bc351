using System.Globalization;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// A hostile local process of the same user against the Linux emulation: forged rights, socket calls on a shared
/// send end, mutable out-of-line memory, descriptor exhaustion. The service it targets must stay up and correct.
/// </summary>
[Trait("Category", "Hostile")]
public class HostileEmulationTests
{
    private const string Peer = "MachTransport.MachPeer";

    [LinuxFact]
    public async Task AForgedReceiveRightIsRefusedAndCannotDestroyTheServicePort()
    {
        string name = TestEnvironment.UniqueServiceName("forged-receive");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using (ChildProcess attacker = ChildProcess.Start(Peer, "forge-receive", name))
        {
            await attacker.ExpectLineAsync("SENT");
        }

        ReceivedMessage message = Receive(service.Name);
        foreach (MachDescriptor descriptor in message.Descriptors)
        {
            MachMessageDisposal.Destroy(Kernel, descriptor); // what the transport does with a message it does not expect
        }

        Assert.Equal(MachMsgReturn.ReceiveBodyError, message.Result);
        Assert.Equal(1u, Refs(service.Name, MachPortRight.Receive));
        Assert.Equal(BootstrapStatus.Success, Kernel.BootstrapLookUp(name, out uint lookedUp));
        Assert.Equal(KernReturn.Success, Kernel.Deallocate(lookedUp));
    }

    [LinuxFact]
    public async Task AHolderShuttingItsSendSocketDownAffectsNoOtherHolderAndNeverSpinsTheReceiver()
    {
        string name = TestEnvironment.UniqueServiceName("shutdown");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using ChildProcess earlier = ChildProcess.Start(Peer, "send-inline", name, "100", "later");
        await earlier.ExpectLineAsync("LOOKED-UP");
        await using ChildProcess attacker = ChildProcess.Start(Peer, "shutdown", name);
        await attacker.ExpectLineAsync("DONE");

        // End-of-file on the attacker's connection is no message: the receive waits (here: times out) instead of failing.
        Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(service.Name, timeoutMilliseconds: 200).Result);

        // A holder from before the attack and one from after it both reach the service.
        earlier.CloseInput();
        await earlier.ExpectLineAsync(nameof(MachMsgReturn.Success));
        await using ChildProcess later = ChildProcess.Start(Peer, "send-inline", name, "100");
        await later.ExpectLineAsync(nameof(MachMsgReturn.Success));
        Assert.Equal(11, Receive(service.Name).Header.Id);
        Assert.Equal(11, Receive(service.Name).Header.Id);
    }

    [LinuxFact]
    public async Task AHolderShrinkingItsSendBufferDoesNotLimitOtherHolders()
    {
        string name = TestEnvironment.UniqueServiceName("shrink");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using ChildProcess client = ChildProcess.Start(Peer, "send-inline", name, "65536", "later");
        await client.ExpectLineAsync("LOOKED-UP");
        await using ChildProcess attacker = ChildProcess.Start(Peer, "shrink", name);
        await attacker.ExpectLineAsync("DONE");

        client.CloseInput();
        await client.ExpectLineAsync(nameof(MachMsgReturn.Success));
        ReceivedMessage message = Receive(service.Name, bufferSize: 70_000);
        Assert.Equal(MachMsgReturn.Success, message.Result);
        Assert.Equal(11, message.Header.Id);
    }

    [LinuxFact]
    public async Task OutOfLineMemoryTheSenderCanStillWriteIsRefused()
    {
        string name = TestEnvironment.UniqueServiceName("ool-mutable");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        await using ChildProcess attacker = ChildProcess.Start(Peer, "ool-mutable", name);
        await attacker.ExpectLineAsync("SENT");

        ReceivedMessage message = Receive(service.Name);
        if (message.Result == MachMsgReturn.Success)
        {
            // Accepted: what the receiver was given must not change when the sender writes on.
            MachDescriptor region = message.Descriptors[0];
            attacker.CloseInput();
            await attacker.ExpectLineAsync("WRITTEN");
            byte first = ReadByte(region.Address);
            Assert.Equal(KernReturn.Success, Kernel.VmDeallocate(region.Address, region.Size));
            Assert.Equal((byte)'A', first);
        }

        Assert.Equal(MachMsgReturn.ReceiveBodyError, message.Result.WithoutSpecialBits()); // XNU adds MACH_MSG_VM_SPACE for memory it cannot place
    }

    [LinuxFact]
    public async Task AtTheDescriptorLimitTheEmulationFailsCleanlyAndItsThreadDoesNotSpin()
    {
        string name = TestEnvironment.UniqueServiceName("exhaust");
        await using ChildProcess service = ChildProcess.Start(Peer, "exhaust", name);
        await service.ExpectLineAsync("CHECKED-IN");
        using MachSendRight right = MachBootstrap.LookUp(Kernel, name);
        Assert.Equal(MachMsgReturn.Success, Send(right.Name, MachMsgTypeName.CopySend, 1));
        string answers = await service.ReadLineAsync();
        await service.ExpectLineAsync("READY");
        Assert.Equal("extract=ResourceShortage portset=ResourceShortage", answers);

        // A look-up pending on the service's bootstrap listener while its descriptor table is full is refused, and a
        // new holder pending on the port's own listener waits (the service is receiving): neither may spin a thread.
        Assert.Equal(BootstrapStatus.NoMemory, Kernel.BootstrapLookUp(name, out _));
        using LinuxFd pendingHolder = LinuxKernel.Instance.DuplicateSendEnd(right.Name);
        Assert.False(pendingHolder.IsInvalid);

        TimeSpan before = CpuTime(service.Id);
        await Task.Delay(TimeSpan.FromSeconds(2)); // a measurement window, not a wait for a condition
        TimeSpan used = CpuTime(service.Id) - before;
        Assert.True(used < TimeSpan.FromMilliseconds(500), $"the service used {used.TotalMilliseconds} ms of CPU in 2 s while idle");
    }

    [LinuxFact]
    public void ADeadNameNotificationToAFullPortWaitsForRoomWithoutBlockingTheEmulation()
    {
        string name = TestEnvironment.UniqueServiceName("notify-full");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        using MachReceiveRight notify = MachReceiveRight.Allocate(Kernel);
        uint carrier = AllocatePort();
        uint watched = AllocatePort();
        try
        {
            // Our send right to a port whose receive right sits in a queued message: destroying the carrier kills it.
            Assert.Equal(KernReturn.Success, Kernel.InsertRight(watched, watched, MachMsgTypeName.MakeSend));
            Assert.Equal(MachMsgReturn.Success, Send(carrier, MachMsgTypeName.MakeSend, 1, attachments: Attachment.Port(watched, MachMsgTypeName.MoveReceive)));
            Assert.Equal(KernReturn.Success, Kernel.RequestNotification(watched, MachNotifyId.DeadName, 0, notify.Name, MachMsgTypeName.MakeSendOnce, out _));

            int fillers = 0;
            byte[] filler = new byte[16_384];
            while (Send(notify.Name, MachMsgTypeName.MakeSend, 2, filler) == MachMsgReturn.Success)
            {
                fillers++;
            }

            Destroy(carrier);
            carrier = MachPort.Null;
            SpinWait.SpinUntil(() => Kernel.GetPortType(watched, out MachPortType type) == KernReturn.Success && (type & MachPortType.DeadName) != 0, TimeSpan.FromSeconds(10));

            // The emulation's thread still answers look-ups while the notification waits for room.
            Assert.Equal(BootstrapStatus.Success, Kernel.BootstrapLookUp(name, out uint lookedUp));
            Assert.Equal(KernReturn.Success, Kernel.Deallocate(lookedUp));

            for (int i = 0; i < fillers; i++)
            {
                Assert.Equal(2, Receive(notify.Name, bufferSize: 20_000).Header.Id);
            }

            ReceivedMessage notification = Receive(notify.Name);
            Assert.Equal(MachMsgReturn.Success, notification.Result);
            Assert.Equal(MachNotifyId.DeadName, notification.Header.Id);
        }
        finally
        {
            if (carrier != MachPort.Null)
            {
                Destroy(carrier);
            }

            _ = Kernel.ModRefs(watched, MachPortRight.DeadName, -2);
        }
    }

    [LinuxFact]
    public async Task WithoutXdgRuntimeDirASquattedTemporaryNameFallsBackToTheHomeDirectory()
    {
        string scratch = Directory.CreateTempSubdirectory("mt-").FullName;
        try
        {
            string home = Directory.CreateDirectory(Path.Combine(scratch, "h")).FullName;
            Directory.CreateDirectory(Path.Combine(scratch, $"machtransport-{ProcessUser.Uid}"), (UnixFileMode)0x1FF);
            var environment = new Dictionary<string, string>
            {
                [LinuxBootstrap.DirectoryVariable] = string.Empty,
                ["XDG_RUNTIME_DIR"] = string.Empty,
                ["TMPDIR"] = scratch + "/",
                ["HOME"] = home,
            };
            await using (ChildProcess holder = ChildProcess.Start(Peer, environment, "hold", "com.example.fallback"))
            {
                await holder.ExpectLineAsync("READY");
                Assert.True(File.Exists(Path.Combine(home, ".machtransport", "com.example.fallback.sock")));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(home, ".machtransport")));
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static unsafe byte ReadByte(ulong address) => *(byte*)address;

    /// <summary>User plus system time of a process (/proc/pid/stat fields 14 and 15, in clock ticks of 1/100 s).</summary>
    private static TimeSpan CpuTime(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}
