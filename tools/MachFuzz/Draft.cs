// A message under construction in the emulation's wire form (docs/linux-emulation.md, "Wire form of a datagram"):
// header fields, descriptors and body kept apart so mutations can lie about one field at a time.
using System.Buffers.Binary;
using MachTransport.Mach.Abi;

namespace MachTransport.Fuzz;

internal sealed class Draft
{
    public const int HeaderSize = 24;
    public const int PortDescriptorSize = 12;
    public const int OolDescriptorSize = 16;

    /// <summary>The voucher value the emulation uses to mark its own notifications (honoured only from the receiving process).</summary>
    public const uint KernelOriginMarker = 0x4B45524E;

    public uint Bits { get; set; } = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend);

    public uint? SizeOverride { get; set; }

    public uint RemotePort { get; set; }

    public uint LocalPort { get; set; }

    public uint Voucher { get; set; }

    public int Id { get; set; }

    public uint? CountOverride { get; set; }

    /// <summary>Each descriptor as its wire bytes (12 for a port, 16 for OOL memory).</summary>
    public List<byte[]> Descriptors { get; } = [];

    public byte[] Body { get; set; } = [];

    public List<FdSpec> Fds { get; } = [];

    public bool IsComplex => (Bits & MachMsgBits.Complex) != 0;

    /// <summary>A port descriptor carrying <paramref name="fd"/> (name 1) with the received-type disposition.</summary>
    public void AddPort(FdSpec fd, MachMsgTypeName disposition = MachMsgTypeName.PortSend)
    {
        byte[] bytes = new byte[PortDescriptorSize];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 1);
        bytes[10] = (byte)disposition;
        bytes[11] = (byte)MachMsgDescriptorType.Port;
        Descriptors.Add(bytes);
        Fds.Add(fd);
        Bits |= MachMsgBits.Complex;
    }

    /// <summary>An OOL descriptor of <paramref name="size"/> bytes carrying a memfd (address 1), virtual copy.</summary>
    public void AddOutOfLine(uint size, FdSpec memory)
    {
        byte[] bytes = new byte[OolDescriptorSize];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1);
        bytes[8] = 1; // deallocate
        bytes[9] = (byte)MachMsgCopyOptions.VirtualCopy;
        bytes[11] = (byte)MachMsgDescriptorType.Ool;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), size);
        Descriptors.Add(bytes);
        Fds.Add(memory);
        Bits |= MachMsgBits.Complex;
    }

    /// <summary>A body of u32 words, padded as the protocol pads.</summary>
    public void SetBody(params uint[] words)
    {
        Body = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(Body.AsSpan(i * 4), words[i]);
        }
    }

    public byte[] Serialize()
    {
        int descriptorBytes = Descriptors.Sum(d => d.Length);
        bool complex = IsComplex || Descriptors.Count > 0;
        int length = HeaderSize + (complex ? 4 + descriptorBytes : 0) + Body.Length;
        byte[] datagram = new byte[length];
        Span<byte> span = datagram;
        BinaryPrimitives.WriteUInt32LittleEndian(span, Bits);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], SizeOverride ?? (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], RemotePort);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], LocalPort);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], Voucher);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], Id);
        int offset = HeaderSize;
        if (complex)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], CountOverride ?? (uint)Descriptors.Count);
            offset += 4;
            foreach (byte[] descriptor in Descriptors)
            {
                descriptor.CopyTo(span[offset..]);
                offset += descriptor.Length;
            }
        }

        Body.CopyTo(span[offset..]);
        return datagram;
    }
}
