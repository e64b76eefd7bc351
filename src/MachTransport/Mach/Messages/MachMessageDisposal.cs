using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Messages;

/// <summary>
/// Releases everything a received message brought into this task (what <c>mach_msg_destroy</c> does): the reply
/// right in the header, every port right in a descriptor and every out-of-line region. Used for any message the
/// transport does not take apart itself, so a hostile peer cannot make us leak rights or memory.
/// </summary>
internal static unsafe class MachMessageDisposal
{
    public static void Destroy(IMachKernel kernel, in MachMessageReader message)
    {
        MachMsgHeader header = message.Header;
        ReleaseRight(kernel, header.RemotePort, header.RemoteDisposition);
        foreach (MachDescriptor descriptor in message.Descriptors)
        {
            Destroy(kernel, descriptor);
        }
    }

    public static void Destroy(IMachKernel kernel, in MachDescriptor descriptor)
    {
        switch (descriptor.Type)
        {
            case MachMsgDescriptorType.Port:
                ReleaseRight(kernel, descriptor.Name, descriptor.Disposition);
                break;
            case MachMsgDescriptorType.Ool or MachMsgDescriptorType.OolVolatile:
                if (descriptor.Address != 0 && descriptor.Size != 0)
                {
                    kernel.VmDeallocate(descriptor.Address, descriptor.Size);
                }

                break;
            case MachMsgDescriptorType.OolPorts:
                // Size is the element count; the array holds one 4-byte name per element.
                if (descriptor.Address != 0 && descriptor.Size != 0)
                {
                    var names = new ReadOnlySpan<uint>((void*)descriptor.Address, checked((int)descriptor.Size));
                    foreach (uint name in names)
                    {
                        ReleaseRight(kernel, name, descriptor.Disposition);
                    }

                    kernel.VmDeallocate(descriptor.Address, descriptor.Size * sizeof(uint));
                }

                break;
            case MachMsgDescriptorType.GuardedPort:
                // mach_msg_guarded_port_descriptor_t: the name sits where the OOL size would (offset 12).
                ReleaseRight(kernel, descriptor.Size, descriptor.Disposition);
                break;
        }
    }

    public static void ReleaseRight(IMachKernel kernel, uint name, MachMsgTypeName disposition)
    {
        if (!MachPort.IsValid(name))
        {
            return;
        }

        switch (disposition)
        {
            case MachMsgTypeName.PortReceive:
                kernel.ModRefs(name, MachPortRight.Receive, -1);
                break;
            case MachMsgTypeName.PortSend or MachMsgTypeName.PortSendOnce:
                kernel.Deallocate(name);
                break;
        }
    }

    /// <summary>
    /// After a send failed with <see cref="MachMsgReturn.SendTimedOut"/> the kernel has pseudo-received the message
    /// back into <paramref name="buffer"/> (mach-abi.md §5.5): header rights not reversed, each right as the type we
    /// now hold, possibly under a new name, an OOL region possibly at a new address. The transport only ever copies
    /// or makes the rights it sends (never moves them), so every send or send-once right that came back is one
    /// reference more than we had: all are released, a CONNECT's or ACCEPT's made send right included. Returns the
    /// address the OOL region now has (0 if none).
    /// </summary>
    public static ulong ReclaimUnsent(IMachKernel kernel, Span<byte> buffer)
    {
        MachMsgHeader header = MemoryMarshal.Read<MachMsgHeader>(buffer);
        ReleaseReturned(kernel, header.RemotePort, header.RemoteDisposition);
        ReleaseReturned(kernel, header.LocalPort, header.LocalDisposition);
        if (!header.IsComplex || !MachMessageReader.TryCreate(buffer[..(int)header.Size], out MachMessageReader reader, out _))
        {
            return 0;
        }

        ulong region = 0;
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            if (descriptor.Type == MachMsgDescriptorType.Port)
            {
                ReleaseReturned(kernel, descriptor.Name, descriptor.Disposition);
            }
            else if (descriptor.Type == MachMsgDescriptorType.Ool)
            {
                region = descriptor.Address;
            }
        }

        return region;
    }

    private static void ReleaseReturned(IMachKernel kernel, uint name, MachMsgTypeName type)
    {
        if (type is MachMsgTypeName.PortSend or MachMsgTypeName.PortSendOnce)
        {
            ReleaseRight(kernel, name, type);
        }
    }
}
