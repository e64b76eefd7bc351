using System.Runtime.InteropServices;
using MachTransport;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using Native = MachTransport.Mach.Linux.Libc;

/// <summary>
/// What a hostile local process can do with the Linux emulation's descriptors (hostile emulation tests):
/// raw datagrams to a looked-up service, socket calls on a shared send end, descriptor exhaustion.
/// </summary>
internal static unsafe partial class Hostile
{
    private const int HeaderSize = 24;
    private const int ShutWrite = 1;
    private const int RlimitNofile = 7;

    /// <summary>
    /// Checks <paramref name="serviceName"/> in in the system domain: prints READY and holds it until stdin closes, or
    /// prints why the registration was refused.
    /// </summary>
    public static void HoldSystemName(IMachKernel kernel, string serviceName)
    {
        MachReceiveRight service;
        try
        {
            service = MachBootstrap.CheckIn(kernel, serviceName, systemDomain: true);
        }
        catch (MachBootstrapException error)
        {
            Console.WriteLine(error.Message);
            return;
        }

        using (service)
        {
            Console.WriteLine("READY");
            _ = Console.In.ReadToEnd();
        }
    }

    /// <summary>
    /// What another process can reach of process <paramref name="pid"/>: each of its descriptors (a port's O_PATH, a
    /// holder's connection, the memfd of OOL data) opened through <c>/proc/PID/fd</c>, and its memory through
    /// <c>/proc/PID/mem</c>. Prints "REACHED n", the number of them that opened.
    /// </summary>
    public static void Snoop(int pid)
    {
        int reached = 0;
        IEnumerable<string> descriptors;
        try
        {
            descriptors = Directory.GetFileSystemEntries($"/proc/{pid}/fd");
        }
        catch (UnauthorizedAccessException)
        {
            descriptors = Enumerable.Range(0, 1024).Select(fd => $"/proc/{pid}/fd/{fd}"); // guessed, as a snoop would
        }

        foreach (string path in descriptors.Append($"/proc/{pid}/mem"))
        {
            int fd = Native.open(path, path.EndsWith("/mem", StringComparison.Ordinal) ? Native.O_RDONLY : Native.O_PATH, 0);
            if (fd >= 0)
            {
                reached++;
                _ = Native.close(fd);
            }
        }

        Console.WriteLine($"REACHED {reached}");
    }

    /// <summary>
    /// Sends the service a "receive right" made of a listener of this process and the service's own <c>O_PATH</c>
    /// (what a look-up hands out), so that it would install under the service port's name.
    /// </summary>
    public static void ForgeReceiveRight(IMachKernel kernel, string serviceName)
    {
        using MachSendRight service = MachBootstrap.LookUp(kernel, serviceName);
        using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name);
        using LinuxFd servicePath = LinuxKernel.Instance.DuplicatePath(service.Name);
        Check(PortSocket.Create(out LinuxFd unrelated, out LinuxFd unrelatedPath) == 0);
        byte[] datagram = new byte[HeaderSize + 4 + 12];
        var header = new MachMsgHeader
        {
            Bits = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend, complex: true),
            Size = (uint)datagram.Length,
            Id = 9,
        };
        MemoryMarshal.Write(datagram, in header);
        MemoryMarshal.Write(datagram.AsSpan(HeaderSize), 1u);
        MemoryMarshal.Write(datagram.AsSpan(HeaderSize + 4), MachMsgPortDescriptor.Create(1, MachMsgTypeName.PortReceive));
        Check(SeqPacket.Send(sendEnd.Number, datagram, [unrelated.Number, servicePath.Number]) == 0);
        unrelated.Dispose();
        unrelatedPath.Dispose();
    }

    /// <summary>Sends the service an OOL region whose memfd this process keeps mapped writable, then writes 'B' over it on request.</summary>
    public static void SendMutableMemory(IMachKernel kernel, string serviceName)
    {
        using MachSendRight service = MachBootstrap.LookUp(kernel, serviceName);
        using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name);
        const int Size = 4096;
        int memfd = Native.memfd_create("mutable", Native.MFD_CLOEXEC | Native.MFD_ALLOW_SEALING);
        Check(memfd >= 0 && Native.ftruncate(memfd, Size) == 0);
        Check(Native.fcntl(memfd, Native.F_ADD_SEALS, Native.F_SEAL_SHRINK | Native.F_SEAL_GROW) == 0);
        byte* mapping = (byte*)Native.mmap(null, Size, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED, memfd, 0);
        Check(mapping != (byte*)-1);
        new Span<byte>(mapping, Size).Fill((byte)'A');
        byte[] datagram = new byte[HeaderSize + 4 + 16];
        var header = new MachMsgHeader
        {
            Bits = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend, complex: true),
            Size = (uint)datagram.Length,
            Id = 10,
        };
        MemoryMarshal.Write(datagram, in header);
        MemoryMarshal.Write(datagram.AsSpan(HeaderSize), 1u);
        MemoryMarshal.Write(datagram.AsSpan(HeaderSize + 4), MachMsgOolDescriptor.Create(1, Size, false, MachMsgCopyOptions.VirtualCopy));
        Check(SeqPacket.Send(sendEnd.Number, datagram, [memfd]) == 0);
        Console.WriteLine("SENT");
        _ = Console.ReadLine();
        new Span<byte>(mapping, Size).Fill((byte)'B');
        Console.WriteLine("WRITTEN");
    }

    /// <summary>Shuts the shared send end of the service down for writing, or shrinks its send buffer; then holds it.</summary>
    public static void BreakSendEnd(IMachKernel kernel, string serviceName, bool shutdown)
    {
        using MachSendRight service = MachBootstrap.LookUp(kernel, serviceName);
        using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name);
        int zero = 0;
        Check(shutdown
            ? ShutdownSocket(sendEnd.Number, ShutWrite) == 0
            : Native.setsockopt(sendEnd.Number, Native.SOL_SOCKET, Native.SO_SNDBUF, &zero, sizeof(int)) == 0);
        Console.WriteLine("DONE");
        _ = Console.In.ReadToEnd();
    }

    /// <summary>
    /// Looks the service up and sends it one message of <paramref name="inlineBytes"/> inline bytes (id 11); prints the
    /// result. With <paramref name="later"/>, prints LOOKED-UP first and sends once stdin closes.
    /// </summary>
    public static void SendInline(IMachKernel kernel, string serviceName, int inlineBytes, bool later)
    {
        using MachSendRight service = MachBootstrap.LookUp(kernel, serviceName);
        if (later)
        {
            Console.WriteLine("LOOKED-UP");
            _ = Console.In.ReadToEnd();
        }

        byte[] buffer = new byte[64 + inlineBytes];
        var writer = new MachTransport.Mach.Messages.MachMessageWriter(buffer, 11, service.Name, MachMsgTypeName.CopySend);
        writer.WriteInline(new byte[inlineBytes]);
        int size = writer.Complete();
        fixed (byte* message = buffer)
        {
            Console.WriteLine(kernel.MachMsg(message, MachMsgOption.SendMsg | MachMsgOption.SendTimeout, (uint)size, 0, 0, 10_000));
        }
    }

    /// <summary>
    /// Puts <paramref name="count"/> descriptors (copies of one) in flight in a socketpair nobody reads: they count against
    /// this user's in-flight budget until the pair is closed. Prints INFLIGHT, holds until stdin closes.
    /// </summary>
    public static void HoldInFlight(int count)
    {
        int* pair = stackalloc int[2];
        Check(Native.socketpair(Native.AF_UNIX, Native.SOCK_SEQPACKET | Native.SOCK_CLOEXEC, 0, pair) == 0);
        int bytes = 64 * 1024 * 1024;
        _ = Native.setsockopt(pair[0], Native.SOL_SOCKET, Native.SO_SNDBUF, &bytes, sizeof(int));
        int[] copies = new int[Native.ScmMaxFd];
        Array.Fill(copies, pair[1]);
        for (int sent = 0; sent < count; sent += copies.Length)
        {
            Check(SeqPacket.Send(pair[0], "x"u8, copies.AsSpan(0, Math.Min(copies.Length, count - sent))) == 0);
        }

        Console.WriteLine("INFLIGHT");
        _ = Console.In.ReadToEnd();
        _ = Native.close(pair[0]);
        _ = Native.close(pair[1]);
    }

    /// <summary>
    /// Checks the service in (CHECKED-IN) and takes one message from it, then fills this process's descriptor table
    /// (lowered limit) and reports what the emulation answers when it needs a descriptor: "extract=… portset=…",
    /// then READY; then receives on the service in the background until stdin closes.
    /// </summary>
    public static void ExhaustDescriptors(IMachKernel kernel, string serviceName)
    {
        using MachReceiveRight service = MachBootstrap.CheckIn(kernel, serviceName);
        TextWriter output = Console.Out; // the console opens its streams (descriptors) on first use
        TextReader input = Console.In;
        output.WriteLine("CHECKED-IN");
        output.Flush();
        byte[] buffer = new byte[4096];
        Check(ReceiveOne(kernel, service.Name, buffer, 30_000) == MachMsgReturn.Success);

        // The receiving thread starts before the table is full (a thread needs descriptors to start).
        bool stopping = false;
        using var filled = new ManualResetEventSlim();
        var receiver = new Thread(() =>
        {
            filled.Wait();
            while (!Volatile.Read(ref stopping))
            {
                _ = ReceiveOne(kernel, service.Name, buffer, 200);
            }
        });
        receiver.Start();
        int open = Directory.GetFiles("/proc/self/fd").Length;
        var limit = new RLimit { Current = (ulong)open + 16, Maximum = (ulong)open + 16 };
        Check(SetRLimit(RlimitNofile, &limit) == 0);
        var fillers = new List<int>();
        int fd;
        while ((fd = Native.open("/dev/null", Native.O_CLOEXEC, 0)) >= 0)
        {
            fillers.Add(fd);
        }

        KernReturn extracted = kernel.ExtractRight(service.Name, MachMsgTypeName.MakeSendOnce, out uint once, out _);

        // One descriptor free: a port set gets its epoll instance but not the event that wakes its receivers.
        Check(Native.close(fillers[^1]) == 0);
        KernReturn portSet = kernel.AllocatePort(MachPortRight.PortSet, out uint set);
        fillers[^1] = Native.open("/dev/null", Native.O_CLOEXEC, 0);
        output.WriteLine($"extract={extracted} portset={portSet}");
        output.WriteLine("READY");
        output.Flush();
        filled.Set();
        _ = input.ReadToEnd();
        Volatile.Write(ref stopping, true);
        receiver.Join();
        GC.KeepAlive(once + set);
    }

    private static MachMsgReturn ReceiveOne(IMachKernel kernel, uint port, byte[] buffer, uint timeoutMilliseconds)
    {
        fixed (byte* message = buffer)
        {
            return kernel.MachMsg(message, MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveTimeout, 0, (uint)buffer.Length, port, timeoutMilliseconds);
        }
    }

    private static void Check(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"hostile step failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    private static partial int ShutdownSocket(int fd, int how);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, RLimit* limit);
}
