using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;
using static MachTransport.Tests.MachLayer.RawRingPeer;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// The out-of-line ring (docs/linux-emulation.md, "Out-of-line memory") attacked from both ends, beyond what
/// <see cref="OolRingTests"/> covers: a receiver that writes what it likes into its sender's ring (states other than
/// 0 and 1, everything in flight, seals, truncation), a sender that rewrites a run while it is copied or names one
/// without its file, and the descriptors and mappings of rings that thousands of connections and ports leave behind.
/// </summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)]
public unsafe partial class OolRingAttackTests
{
    private const int F_SEAL_FUTURE_WRITE = 0x10; // linux/fcntl.h: no new write(2) nor writable shared mapping

    private const int F_DUPFD_CLOEXEC = 1030; // linux/fcntl.h: F_LINUX_SPECIFIC_BASE + 6

    private static readonly int HeaderSize = Unsafe.SizeOf<MachMsgHeader>();

    /// <summary>
    /// A hostile receiver maps the sender's ring (it gets the memfd with every datagram) and writes garbage states,
    /// marks every chunk in flight, tries to seal the file against the sender's writes or to resize it. The sender
    /// must never wait, fail or crash: every payload arrives intact (through memfds of its own while the ring has no
    /// run it can claim) and each send returns at once.
    /// </summary>
    [LinuxTheory]
    [InlineData(2u)]
    [InlineData(uint.MaxValue)]
    [InlineData(OolRing.InFlight)]
    public void ReceiverWritingGarbageStatesNeverBlocksNorCorruptsTheSender(uint state)
    {
        uint port = AllocatePort();
        const int Size = 200_000;
        byte* source = (byte*)NativeMemory.Alloc(Size);
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.SetQueueLimit(port, 16));
            using SenderRingView ring = SendAndFindSenderRing(port, source, Size);

            // What a hostile receiver holding the memfd can try on the file itself: all refused by the sender's seals.
            Assert.Equal(-1, Libc.fcntl(ring.Fd, Libc.F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
            Assert.Equal(-1, Libc.fcntl(ring.Fd, Libc.F_ADD_SEALS, Libc.F_SEAL_WRITE));
            Assert.Equal(-1, Libc.ftruncate(ring.Fd, 4096));
            Assert.Equal(-1, Libc.ftruncate(ring.Fd, OolRing.FileSize * 2));

            ring.SetAllStates(state);
            var clock = Stopwatch.StartNew();
            for (byte seed = 10; seed < 16; seed++)
            {
                Pattern(Size, seed).CopyTo(new Span<byte>(source, Size));
                Assert.Equal(MachMsgReturn.Success, SendPayload(port, seed, source, Size));
            }

            TimeSpan sending = clock.Elapsed;
            Assert.True(sending < TimeSpan.FromSeconds(5), $"6 sends took {sending.TotalMilliseconds:F0} ms");
            for (byte seed = 10; seed < 16; seed++)
            {
                ReceivedMessage received = Receive(port);
                Assert.Equal(MachMsgReturn.Success, received.Result);
                Assert.True(Bytes(received).SequenceEqual(Pattern(Size, seed)), $"message {seed}");
                Release(received);
            }

            // The garbage was never taken for "free": no chunk of the sender's was claimed over it.
            for (uint chunk = 0; chunk < OolRing.ChunkCount; chunk++)
            {
                Assert.Equal(state, ring.State(chunk));
            }
        }
        finally
        {
            NativeMemory.Free(source);
            Destroy(port);
        }
    }

    /// <summary>
    /// A hostile receiver writes into its sender's ring from a page whose fault it never serves (userfaultfd here;
    /// FUSE does the same for any user where fusermount is usable), so its write holds the ring's inode lock. The
    /// sender's next ring send must still return at once: it copies through its own mapping, taking no lock of the
    /// file (with pwrite, as before the ring review, it waited for that lock as long as the receiver liked).
    /// </summary>
    [LinuxRootFact]
    public void ReceiverHoldingTheRingsInodeLockDoesNotStallTheSender()
    {
        uint port = AllocatePort();
        const int Size = 100_000;
        byte* source = (byte*)NativeMemory.Alloc(Size);
        int uffd = -1;
        byte* page = null;
        Thread? holder = null;
        Task<MachMsgReturn>? send = null;
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.SetQueueLimit(port, 16));
            using SenderRingView ring = SendAndFindSenderRing(port, source, Size);
            uffd = Uffd.Create();
            page = Uffd.RegisteredPage(uffd);
            int ringFd = ring.Fd;
            nint faulting = (nint)page;
            holder = new Thread(() => _ = Libc.write(ringFd, (void*)faulting, 4096)) { IsBackground = true };
            holder.Start();
            Uffd.AwaitFault(uffd); // the holder's write now sits in the fault, with the ring's inode locked

            send = Task.Run(() => SendPayload(port, 2, source, Size));
            Assert.True(send.Wait(TimeSpan.FromSeconds(5)), "a ring send blocked behind the receiver's write");
            Assert.Equal(MachMsgReturn.Success, send.Result);
        }
        finally
        {
            if (uffd >= 0)
            {
                _ = Libc.close(uffd); // wakes the fault: the holder's write, then any blocked send, completes
            }

            Assert.True(holder?.Join(TimeSpan.FromSeconds(10)) ?? true);
            Assert.True(send?.Wait(TimeSpan.FromSeconds(10)) ?? true);
            if (page != null)
            {
                _ = Libc.munmap(page, 4096);
            }

            NativeMemory.Free(source);
            Destroy(port);
        }
    }

    /// <summary>
    /// A copied region the sender cannot read, wholly or from its middle on, fails the send with
    /// MACH_SEND_INVALID_MEMORY (the kernel reads it, so never a crash), and the run it had claimed is free again.
    /// </summary>
    [LinuxTheory]
    [InlineData(0)] // nothing readable
    [InlineData(64 << 10)] // the first 64 KiB readable, the rest not: the copy fails part-way
    public void UnreadableSourceFailsTheSendAndFreesItsRun(int readable)
    {
        uint port = AllocatePort();
        const int Size = 128 << 10;
        byte* region = (byte*)Libc.mmap(null, Size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        Assert.True(region != (byte*)-1);
        byte* source = (byte*)NativeMemory.Alloc(Size);
        try
        {
            using SenderRingView ring = SendAndFindSenderRing(port, source, Size);
            Assert.Equal(0, Libc.munmap(region + readable, (nuint)(Size - readable)));
            Assert.Equal(MachMsgReturn.SendInvalidMemory, SendPayload(port, 2, region, Size));
            for (uint chunk = 0; chunk < OolRing.ChunkCount; chunk++)
            {
                Assert.Equal(OolRing.Free, ring.State(chunk));
            }

            Pattern(Size, 9).CopyTo(new Span<byte>(source, Size));
            Assert.Equal(MachMsgReturn.Success, SendPayload(port, 3, source, Size));
            ReceivedMessage received = Receive(port);
            Assert.Equal(3, received.Header.Id);
            Assert.True(Bytes(received).SequenceEqual(Pattern(Size, 9)));
            Release(received);
        }
        finally
        {
            _ = Libc.munmap(region, (nuint)readable);
            NativeMemory.Free(source);
            Destroy(port);
        }
    }

    /// <summary>
    /// A sender rewrites the run without pause while the receiver copies it out. The copy may be torn (the sender
    /// spoils its own message), but once the receive returns it is the receiver's and never changes again: nothing
    /// is fetched from the ring twice.
    /// </summary>
    [LinuxFact]
    public void RunRewrittenDuringTheCopyGivesAStableCopy()
    {
        uint port = AllocatePort();
        using var stop = new CancellationTokenSource();
        using var ring = HostileRing.Create(); // disposed after the rewriter has stopped
        Task? rewriter = null;
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
            const int Size = 512 << 10;
            ring.Put(0, Pattern(Size, 1));
            rewriter = Task.Run(() =>
            {
                byte seed = 0;
                while (!stop.IsCancellationRequested)
                {
                    ring.Fill(0, Size, seed++);
                }
            });

            for (int i = 0; i < 50; i++)
            {
                Assert.Equal(0, SendRun(sendEnd, ring.Fd, 0, Size));
                ReceivedMessage received = Receive(port);
                Assert.Equal(MachMsgReturn.Success, received.Result);
                byte[] first = Bytes(received).ToArray();
                Thread.Yield();
                Assert.True(Bytes(received).SequenceEqual(first), $"message {i} changed after its receipt");
                Release(received);
            }
        }
        finally
        {
            stop.Cancel();
            Assert.True(rewriter?.Wait(TimeSpan.FromSeconds(10)) ?? true);
            Destroy(port);
        }
    }

    /// <summary>
    /// A datagram that says it attaches a ring but does not is refused, and so is one that names a run in the ring its
    /// connection already delivered when the connection has none, and one that brings the ring another connection (on
    /// this port or another) adopted: a ring is named only through the connection it came with. Once a connection's
    /// ring is adopted, its runs may be named without attaching it (what the sender does once the receiver says so).
    /// </summary>
    [LinuxFact]
    public void RunNamedWithoutItsFileOrOnAnotherConnectionsRingIsRefused()
    {
        uint port = AllocatePort();
        uint other = AllocatePort();
        try
        {
            using LinuxFd first = LinuxKernel.Instance.DuplicateSendEnd(port);
            using LinuxFd second = LinuxKernel.Instance.DuplicateSendEnd(port);
            using LinuxFd elsewhere = LinuxKernel.Instance.DuplicateSendEnd(other);
            using var ring = HostileRing.Create();
            using var secondRing = HostileRing.Create();
            AssertServes(port, first, ring);
            Assert.Equal(OolRing.Held, ring.State(OolRing.HeldWord)); // the receiver said it holds the ring

            Assert.Equal(0, SendRun(first, ringFd: null, 1, 100, attachedTag: true));
            Assert.Equal(MachMsgReturn.ReceiveBodyError, Receive(port).Result.WithoutSpecialBits());

            // No ring on the second connection yet: a run named in "the ring it delivered" is refused.
            Assert.Equal(0, SendRun(second, ringFd: null, 1, 100));
            Assert.Equal(MachMsgReturn.ReceiveBodyError, Receive(port).Result.WithoutSpecialBits());

            // The second connection adopts a ring of its own; the first connection may not name it.
            AssertServes(port, second, secondRing);
            Assert.Equal(0, SendRun(first, secondRing.Fd, 1, 100));
            Assert.Equal(MachMsgReturn.ReceiveBodyError, Receive(port).Result.WithoutSpecialBits());

            // Named without the ring attached, a run comes from the connection's own ring.
            byte[] payload = Pattern(5000, 77);
            ring.Put(2, payload);
            Assert.Equal(0, SendRun(first, ringFd: null, 2, (uint)payload.Length));
            ReceivedMessage received = Receive(port);
            Assert.Equal(MachMsgReturn.Success, received.Result);
            Assert.True(Bytes(received).SequenceEqual(payload));
            Release(received);

            // Another port's connection maps what it is given for itself (the sender's own file), not port's mapping.
            AssertServes(other, elsewhere, ring);
            AssertServes(port, first, ring);
            AssertServes(port, second, secondRing);
        }
        finally
        {
            Destroy(port);
            Destroy(other);
        }
    }

    /// <summary>
    /// 10,000 connections, each bringing a ring, naming a run in it and closing: the receiver unmaps each ring with
    /// its connection, so neither its mappings nor its descriptors grow.
    /// </summary>
    [LinuxFact]
    public void RingsOfClosedConnectionsAreUnmapped()
    {
        const int Connections = 10_000;
        uint port = AllocatePort();
        try
        {
            HashSet<string> fdsBefore = OpenFds();
            int mappedBefore = MappingsOf("hostile-ring");
            for (int i = 0; i < Connections; i++)
            {
                using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
                Assert.False(sendEnd.IsInvalid, $"connection {i}");
                using var ring = HostileRing.Create();
                AssertServes(port, sendEnd, ring);
            }

            // The last connection's end-of-file is seen by the next receive, which drops it (and its ring).
            Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(port, timeoutMilliseconds: 10).Result);
            // Tests of other classes run meanwhile and open rings and descriptors of their own: a leak here is thousands.
            Assert.InRange(MappingsOf("hostile-ring") - mappedBefore, 0, 4);
            Assert.InRange(OpenedSince(fdsBefore).Count(fd => fd.Contains("memfd:", StringComparison.Ordinal)), 0, 4);
        }
        finally
        {
            Destroy(port);
        }
    }

    /// <summary>
    /// 2,000 ports, each sent a ring payload and destroyed: the sender's ring goes with its entry, so its mappings
    /// and descriptors do not grow either.
    /// </summary>
    [LinuxFact]
    public void SenderRingsOfDestroyedPortsAreUnmapped()
    {
        const int Ports = 2_000; // 10,000 measured once: 26 s, nothing left; 2,000 keeps the test short
        const int Size = 70_000;
        byte* source = (byte*)NativeMemory.Alloc(Size);
        try
        {
            Pattern(Size, 3).CopyTo(new Span<byte>(source, Size));
            HashSet<string> fdsBefore = OpenFds();
            int mappedBefore = MappingsOf("mach-ool-ring");
            for (int i = 0; i < Ports; i++)
            {
                uint port = AllocatePort();
                Assert.Equal(MachMsgReturn.Success, SendPayload(port, 1, source, Size));
                ReceivedMessage received = Receive(port);
                Assert.Equal(MachMsgReturn.Success, received.Result);
                Release(received);
                Destroy(port);
            }

            // Tests of other classes run meanwhile and open rings and descriptors of their own: a leak here is thousands.
            Assert.InRange(OpenedSince(fdsBefore).Count(fd => fd.Contains("memfd:", StringComparison.Ordinal)), 0, 4);
            Assert.InRange(MappingsOf("mach-ool-ring") - mappedBefore, 0, 4);
        }
        finally
        {
            NativeMemory.Free(source);
        }
    }

    /// <summary>
    /// A process that gives a receive right away unmaps the rings its holders brought (the emulation's part: a hostile
    /// process could keep them, as it could keep the sockets); the right's new owner maps the ring again.
    /// </summary>
    [LinuxFact]
    public void RingMappingLeavesWithTheReceiveRight()
    {
        uint moved = AllocatePort();
        uint carrier = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(moved);
            using var ring = HostileRing.Create();
            int ours = MappingsOf("hostile-ring"); // the test's own mapping (and any of another test's ring)
            AssertServes(moved, sendEnd, ring);
            Assert.Equal(ours + 1, MappingsOf("hostile-ring"));

            Assert.Equal(MachMsgReturn.Success, Send(carrier, MachMsgTypeName.MakeSend, 50, attachments: Attachment.Port(moved, MachMsgTypeName.MoveReceive)));
            Assert.Equal(ours, MappingsOf("hostile-ring"));

            moved = Assert.Single(Receive(carrier).Descriptors).Name;
            AssertServes(moved, sendEnd, ring);
            Assert.Equal(ours + 1, MappingsOf("hostile-ring"));
        }
        finally
        {
            _ = Kernel.ModRefs(moved, MachPortRight.Receive, -1); // gone if the test failed with the right in flight
            Destroy(carrier);
        }
    }

    /// <summary>
    /// Sends one payload (the port's first: this space makes its ring for it), receives it (the receiver maps the ring,
    /// as a hostile one would, and holds its memfd from the datagram) and finds that ring's memfd by its content among
    /// those the receiver holds. The sender keeps none in its table (<see cref="OolRingReachTests"/>).
    /// </summary>
    private static SenderRingView SendAndFindSenderRing(uint port, byte* source, int size)
    {
        byte[] marker = Pattern(size, 77);
        marker.CopyTo(new Span<byte>(source, size));
        Assert.Equal(MachMsgReturn.Success, SendPayload(port, 77, source, size));
        ReceivedMessage received = Receive(port);
        Assert.True(Bytes(received).SequenceEqual(marker));
        Release(received);

        byte[] probe = new byte[64];
        SenderRingView? found = null;
        foreach (LinuxFd memfd in LinuxKernel.Instance.TakeReceivedRings(port))
        {
            using (memfd)
            {
                int fd = Libc.fcntl(memfd.Number, F_DUPFD_CLOEXEC, 0);
                Assert.True(fd >= 0);
                fixed (byte* at = probe)
                {
                    if (found is null && Libc.pread(fd, at, (nuint)probe.Length, OolRing.DataOffset(0)) == probe.Length && probe.AsSpan().SequenceEqual(marker.AsSpan(0, probe.Length)))
                    {
                        found = SenderRingView.Map(fd);
                        continue;
                    }
                }

                _ = Libc.close(fd);
            }
        }

        Assert.NotNull(found);
        return found;
    }

    private static MachMsgReturn SendPayload(uint port, int id, byte* source, int size)
        => Send(port, MachMsgTypeName.MakeSend, id, attachments: Attachment.Memory((ulong)source, (uint)size, deallocate: false, MachMsgCopyOptions.PhysicalCopy));

    private static int MappingsOf(string name)
    {
        int count = 0;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            count += line.Contains("memfd:" + name, StringComparison.Ordinal) ? 1 : 0;
        }

        return count;
    }

    /// <summary>Just enough userfaultfd (linux/userfaultfd.h, x86_64 syscall 323) to make a page whose fault waits until the descriptor closes.</summary>
    private static partial class Uffd
    {
        private const long SysUserfaultfd = 323;
        private const ulong UffdApi = 0xAA;
        private const ulong UffdioApi = 0xC018AA3F; // _IOWR(0xAA, 0x3F, struct uffdio_api)
        private const ulong UffdioRegister = 0xC020AA00; // _IOWR(0xAA, 0x00, struct uffdio_register)
        private const ulong RegisterModeMissing = 1;

        public static int Create()
        {
            Assert.True(RuntimeInformation.ProcessArchitecture == Architecture.X64, "the syscall number is x86_64's");
            int fd = (int)syscall(SysUserfaultfd, 0x80000); // O_CLOEXEC
            Assert.True(fd >= 0, $"userfaultfd: {Marshal.GetLastPInvokeError()}");
            ulong* api = stackalloc ulong[3] { UffdApi, 0, 0 };
            Assert.Equal(0, ioctl(fd, UffdioApi, api));
            return fd;
        }

        public static byte* RegisteredPage(int uffd)
        {
            void* page = Libc.mmap(null, 4096, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
            Assert.True(page != (void*)-1);
            ulong* register = stackalloc ulong[4] { (ulong)page, 4096, RegisterModeMissing, 0 };
            Assert.Equal(0, ioctl(uffd, UffdioRegister, register));
            return (byte*)page;
        }

        /// <summary>Waits for the first fault on the registered page (a 32-byte struct uffd_msg), without serving it.</summary>
        public static void AwaitFault(int uffd)
        {
            byte* message = stackalloc byte[32];
            Assert.Equal(32, Libc.read(uffd, message, 32));
        }

        [LibraryImport("libc", SetLastError = true)]
        private static partial long syscall(long number, long argument);

        [LibraryImport("libc", SetLastError = true)]
        private static partial int ioctl(int fd, ulong request, void* argument);
    }

    /// <summary>The sender's own ring as its receiver sees it: the memfd it was given and a shared mapping of it.</summary>
    private sealed class SenderRingView : IDisposable
    {
        private readonly uint* _states;

        private SenderRingView(int fd, uint* states)
        {
            Fd = fd;
            _states = states;
        }

        public int Fd { get; }

        public static SenderRingView Map(int fd)
        {
            void* mapping = Libc.mmap(null, (nuint)OolRing.FileSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
            Assert.True(mapping != (void*)-1);
            return new SenderRingView(fd, (uint*)mapping);
        }

        public void SetAllStates(uint state)
        {
            for (uint chunk = 0; chunk < OolRing.ChunkCount; chunk++)
            {
                Volatile.Write(ref _states[chunk], state);
            }
        }

        public uint State(uint chunk) => Volatile.Read(ref _states[chunk]);

        public void Dispose()
        {
            _ = Libc.munmap(_states, (nuint)OolRing.FileSize);
            _ = Libc.close(Fd);
        }
    }
}
