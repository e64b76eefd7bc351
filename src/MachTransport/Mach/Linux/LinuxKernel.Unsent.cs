using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;

namespace MachTransport.Mach.Linux;

/// <summary>
/// What XNU does after a send timed out: the message it had copied in is pseudo-received back into the sender's
/// buffer (<c>ipc_kmsg_copyout_pseudo</c>, mach-abi.md §5.5). Header rights stay where they were (not reversed) and
/// every right becomes the right the sender now holds: a copied or made send right is one more user reference, a
/// made send-once right is a new name, a moved right is the sender's again. Callers that ignore this leak rights
/// on Darwin; doing the same here lets the tests see it.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>Rewrites the caller's (untouched) buffer in pseudo-received form, from the rights copy-in resolved in order.</summary>
    private unsafe void ReturnUnsent(byte* message, uint sendSize, SendScratch scratch)
    {
        var bytes = new Span<byte>(message, (int)sendSize);
        ref MachMsgHeader header = ref MemoryMarshal.AsRef<MachMsgHeader>(bytes);
        header.Size = sendSize;
        if (!MachMessageReader.TryCreate(bytes, out MachMessageReader reader, out _))
        {
            return; // copy-in parsed the same bytes; unreachable unless the caller changed them meanwhile
        }

        int next = 0;
        lock (_lock)
        {
            uint destination = Reinstall(scratch.Carried[next++], out MachMsgTypeName destinationType);
            uint reply = header.LocalPort;
            MachMsgTypeName replyType = header.LocalDisposition == MachMsgTypeName.None ? MachMsgTypeName.None : ReceivedType(header.LocalDisposition);
            if (replyType != MachMsgTypeName.None && MachPort.IsValid(reply))
            {
                reply = Reinstall(scratch.Carried[next++], out replyType);
            }

            header.Bits = MachMsgBits.Make(destinationType, replyType, header.IsComplex);
            header.RemotePort = destination;
            header.LocalPort = reply;

            int offset = Unsafe.SizeOf<MachMsgHeader>() + sizeof(uint);
            foreach (MachDescriptor descriptor in reader.Descriptors)
            {
                if (descriptor.Type == MachMsgDescriptorType.Port)
                {
                    ref MachMsgPortDescriptor port = ref MemoryMarshal.AsRef<MachMsgPortDescriptor>(bytes[offset..]);
                    MachMsgTypeName type = ReceivedType(descriptor.Disposition);
                    if (MachPort.IsValid(port.Name))
                    {
                        port.Name = Reinstall(scratch.Carried[next++], out type);
                    }

                    port.Disposition = (byte)type;
                }

                // Out-of-line regions are taken from the sender only once the message is queued: same address.
                offset += MachDescriptor.SizeOf(descriptor.Type);
            }
        }
    }

    /// <summary>The name under which the sender holds a right copy-in took (caller holds _lock).</summary>
    private uint Reinstall((PortEntry Entry, MachMsgTypeName Disposition) carried, out MachMsgTypeName type)
    {
        (PortEntry entry, MachMsgTypeName disposition) = carried;
        type = ReceivedType(disposition);
        if (!_ports.TryGetValue(entry.Name, out PortEntry? current) || current != entry)
        {
            return MachPort.Dead; // the name went away meanwhile: the right comes back as a dead name
        }

        switch (disposition)
        {
            case MachMsgTypeName.CopySend or MachMsgTypeName.MakeSend when !entry.IsDead && entry.Path is not null:
                entry.SendUrefs++;
                return entry.Name;
            case MachMsgTypeName.CopySend or MachMsgTypeName.MakeSend:
                entry.DeadUrefs++; // the port died meanwhile
                return entry.Name;
            case MachMsgTypeName.MakeSendOnce:
                return entry.IsDead || entry.Path is null ? MachPort.Dead : NewSendOnce(entry)?.Name ?? MachPort.Dead;
            default:
                return entry.Name; // moved rights are consumed only once the message is queued
        }
    }
}
