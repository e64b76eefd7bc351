using System.Runtime.InteropServices;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Messages;
using Xunit;

namespace MachTransport.Tests.MachLayer;

/// <summary>A received message, copied out of the receive buffer for assertions.</summary>
internal sealed record ReceivedMessage(
    MachMsgReturn Result,
    MachMsgHeader Header,
    byte[] Body,
    MachDescriptor[] Descriptors,
    MachMsgAuditTrailer Trailer);

/// <summary>Sends and receives test messages through the active backend with the shared writer and reader.</summary>
internal static unsafe class MachTestMessages
{
    public static IMachKernel Kernel => MachKernel.Current;

    /// <summary>A descriptor to put in a test message: a port right, or an OOL region.</summary>
    public readonly record struct Attachment(uint Name, MachMsgTypeName Disposition, ulong Address, uint Size, bool Deallocate, bool IsMemory)
    {
        public static Attachment Port(uint name, MachMsgTypeName disposition) => new(name, disposition, 0, 0, false, false);

        public static Attachment Memory(ulong address, uint size, bool deallocate, MachMsgCopyOptions copy = MachMsgCopyOptions.VirtualCopy)
            => new(0, (MachMsgTypeName)copy, address, size, deallocate, true);
    }

    public static MachMsgReturn Send(
        uint destination,
        MachMsgTypeName disposition,
        int id,
        ReadOnlySpan<byte> body = default,
        uint replyPort = MachPort.Null,
        MachMsgTypeName replyDisposition = MachMsgTypeName.None,
        uint timeoutMilliseconds = 0,
        params Attachment[] attachments)
    {
        byte[] buffer = new byte[64 + (attachments.Length * 16) + body.Length];
        var writer = new MachMessageWriter(buffer, id, destination, disposition, replyPort, replyDisposition, attachments.Length);
        foreach (Attachment attachment in attachments)
        {
            if (attachment.IsMemory)
            {
                writer.AddOutOfLine(attachment.Address, attachment.Size, attachment.Deallocate, (MachMsgCopyOptions)attachment.Disposition);
            }
            else
            {
                writer.AddPort(attachment.Name, attachment.Disposition);
            }
        }

        writer.WriteInline(body);
        int size = writer.Complete();
        fixed (byte* message = buffer)
        {
            return Kernel.MachMsg(message, MachMsgOption.SendMsg | MachMsgOption.SendTimeout, (uint)size, 0, MachPort.Null, timeoutMilliseconds);
        }
    }

    public static ReceivedMessage Receive(uint name, uint timeoutMilliseconds = 10_000, int bufferSize = 4096, MachMsgOption extra = MachMsgOption.None)
    {
        byte[] buffer = new byte[bufferSize];
        MachMsgReturn result;
        fixed (byte* message = buffer)
        {
            result = Kernel.MachMsg(
                message,
                MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveTimeout | MachMsgOption.ReceiveTrailerAudit | extra,
                0,
                (uint)bufferSize,
                name,
                timeoutMilliseconds);
        }

        MachMsgHeader header = MemoryMarshal.Read<MachMsgHeader>(buffer);
        if (result.WithoutSpecialBits() is not (MachMsgReturn.Success or MachMsgReturn.ReceiveHeaderError or MachMsgReturn.ReceiveBodyError)
            || !MachMessageReader.TryCreate(buffer, out MachMessageReader reader, out _))
        {
            return new ReceivedMessage(result, header, [], [], default);
        }

        var descriptors = new List<MachDescriptor>();
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            descriptors.Add(descriptor);
        }

        reader.TryGetAuditTrailer(out MachMsgAuditTrailer trailer);
        return new ReceivedMessage(result, header, reader.Body.ToArray(), [.. descriptors], trailer);
    }

    public static uint AllocatePort()
    {
        Assert.Equal(KernReturn.Success, Kernel.AllocatePort(MachPortRight.Receive, out uint name));
        return name;
    }

    public static uint Refs(uint name, MachPortRight right)
    {
        Assert.Equal(KernReturn.Success, Kernel.GetRefs(name, right, out uint refs));
        return refs;
    }

    public static void Destroy(uint receiveRight) => Assert.Equal(KernReturn.Success, Kernel.ModRefs(receiveRight, MachPortRight.Receive, -1));

    /// <summary>
    /// Descriptors open in this process (number and what it refers to), taken after the backend's own process-wide
    /// ones exist. Leak checks compare snapshots for descriptors that appeared: a finalizer or a previous test's late
    /// disposal may close descriptors meanwhile, which a bare count would mistake for a change.
    /// </summary>
    public static HashSet<string> OpenFds()
    {
        _ = Kernel; // creates the backend, and its process-wide descriptors, first
        var open = new HashSet<string>();
        foreach (string entry in Directory.GetFiles("/proc/self/fd"))
        {
            // No target: closed between listing and reading, as the listing's own directory descriptor always is.
            if (new FileInfo(entry).LinkTarget is string target)
            {
                open.Add($"{Path.GetFileName(entry)} -> {target}");
            }
        }

        return open;
    }

    /// <summary>
    /// Descriptors open now that were not open in <paramref name="before"/>, once every close handed to
    /// <see cref="DeferredClose"/> has run (destroying a port closes its sockets on that thread).
    /// </summary>
    public static string[] OpenedSince(HashSet<string> before)
    {
        Assert.True(DeferredClose.WaitUntilClosed(TimeSpan.FromSeconds(30)), "the deferred closes did not finish in 30 s");
        return OpenFds().Except(before).ToArray();
    }
}
