using System.Diagnostics;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;
using static MachTransport.Tests.MachLayer.RawRingPeer;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// A third process of the same user looking for a live OOL ring (docs/linux-emulation.md, "Out-of-line memory"):
/// <c>/proc/&lt;pid&gt;/fd</c> needs only ptrace read access, which Yama does not restrict, and a memfd found there can
/// be chmod-ed and opened. Neither end of a ring may keep a descriptor of it in its table: both map it and park it.
/// </summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)]
public class OolRingReachTests
{
    [LinuxFact]
    public async Task AnotherProcessFindsNoRingInProcFdWhileTheRingIsLive()
    {
        uint port = AllocatePort();
        int control = Libc.memfd_create("ool-reach-control", Libc.MFD_CLOEXEC);
        try
        {
            Assert.True(control >= 0);
            Assert.Equal(KernReturn.Success, Kernel.InsertRight(port, port, MachMsgTypeName.MakeSend));

            // Two sends: the first brings the ring (this process is its sender and its receiver), the second names a
            // run in the ring the receiver said it holds.
            SendThroughRing(port, 1);
            SendThroughRing(port, 2);

            // The ring is live: mapped by both ends.
            string maps = await File.ReadAllTextAsync("/proc/self/maps");
            Assert.True(maps.Split('\n').Count(line => line.Contains("memfd:mach-ool-ring", StringComparison.Ordinal)) >= 2, maps);

            string links = await ListDescriptorsFromAnotherProcessAsync(Environment.ProcessId);
            Assert.Contains("memfd:ool-reach-control", links, StringComparison.Ordinal); // the look works
            Assert.DoesNotContain("mach-ool-ring", links, StringComparison.Ordinal);
        }
        finally
        {
            _ = Libc.close(control);
            Assert.Equal(KernReturn.Success, Kernel.Deallocate(port));
            Destroy(port);
        }
    }

    /// <summary>Sends an OOL payload of 200,000 bytes to <paramref name="port"/> (this process's own) and receives it intact.</summary>
    private static unsafe void SendThroughRing(uint port, byte seed)
    {
        const int Size = 200_000;
        byte* source = (byte*)NativeMemory.Alloc(Size);
        try
        {
            Pattern(Size, seed).CopyTo(new Span<byte>(source, Size));
            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.CopySend, seed, attachments: Attachment.Memory((ulong)source, Size, deallocate: false, MachMsgCopyOptions.PhysicalCopy)));
            ReceivedMessage received = Receive(port);
            Assert.Equal(MachMsgReturn.Success, received.Result);
            Assert.True(Bytes(received).SequenceEqual(Pattern(Size, seed)));
            Release(received);
        }
        finally
        {
            NativeMemory.Free(source);
        }
    }

    /// <summary>What <c>readlink</c> shows for every entry of <c>/proc/<paramref name="pid"/>/fd</c>, read by a child process.</summary>
    private static async Task<string> ListDescriptorsFromAnotherProcessAsync(int pid)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"for f in /proc/{pid}/fd/*; do readlink \"$f\"; done");
        using Process child = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task<string> output = child.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> errors = child.StandardError.ReadToEndAsync(timeout.Token);
        await child.WaitForExitAsync(timeout.Token);
        Assert.True(child.ExitCode == 0, await errors);
        return await output;
    }
}
