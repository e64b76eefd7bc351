using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Messages;

/// <summary>
/// Reads a message laid out as XNU lays it out: header, descriptors walked by their type byte
/// (they are 12 or 16 bytes), inline data up to <c>msgh_size</c>, and the trailer that starts there.
/// Every bound is checked: <see cref="TryCreate"/> fails rather than read past the buffer.
/// </summary>
internal readonly ref struct MachMessageReader
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly ReadOnlySpan<byte> _trailer;
    private readonly int _bodyOffset;

    private MachMessageReader(ReadOnlySpan<byte> message, ReadOnlySpan<byte> trailer, int descriptorCount, int bodyOffset)
    {
        _message = message;
        _trailer = trailer;
        DescriptorCount = descriptorCount;
        _bodyOffset = bodyOffset;
    }

    public MachMsgHeader Header => MemoryMarshal.Read<MachMsgHeader>(_message);

    public int Id => Header.Id;

    public int DescriptorCount { get; }

    /// <summary>Inline bytes after the descriptors (the sender's padding to 4 included).</summary>
    public ReadOnlySpan<byte> Body => _message[_bodyOffset..];

    /// <summary>The whole message without trailer.</summary>
    public ReadOnlySpan<byte> Message => _message;

    /// <summary>
    /// Parses <paramref name="buffer"/> (message + trailer as received). <paramref name="error"/> says why it failed.
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out MachMessageReader reader, out string? error)
    {
        reader = default;
        int headerSize = Unsafe.SizeOf<MachMsgHeader>();
        if (buffer.Length < headerSize)
        {
            error = "buffer shorter than a message header";
            return false;
        }

        MachMsgHeader header = MemoryMarshal.Read<MachMsgHeader>(buffer);
        if (header.Size < headerSize || header.Size > buffer.Length || (header.Size & 3) != 0)
        {
            error = $"msgh_size {header.Size} does not fit the {buffer.Length}-byte buffer";
            return false;
        }

        ReadOnlySpan<byte> message = buffer[..(int)header.Size];
        int offset = headerSize;
        int count = 0;
        if (header.IsComplex)
        {
            if (message.Length < offset + sizeof(uint))
            {
                error = "complex message without a body count";
                return false;
            }

            uint declared = MemoryMarshal.Read<uint>(message[offset..]);
            offset += sizeof(uint);
            if (declared > (uint)(message.Length - offset) / 12)
            {
                error = $"descriptor count {declared} overruns the message";
                return false;
            }

            count = (int)declared;
            for (int i = 0; i < count; i++)
            {
                if (offset + 12 > message.Length)
                {
                    error = $"descriptor {i} overruns the message";
                    return false;
                }

                var type = (MachMsgDescriptorType)message[offset + 11];
                if (type > MachMsgDescriptorType.GuardedPort)
                {
                    error = $"descriptor {i} has unknown type {(byte)type}";
                    return false;
                }

                offset += MachDescriptor.SizeOf(type);
                if (offset > message.Length)
                {
                    error = $"descriptor {i} overruns the message";
                    return false;
                }
            }
        }

        reader = new MachMessageReader(message, buffer[(int)header.Size..], count, offset);
        error = null;
        return true;
    }

    /// <summary>Walks the descriptors in order.</summary>
    public DescriptorEnumerator Descriptors => new(_message, DescriptorCount);

    /// <summary>The audit trailer if the receive asked for it and the kernel wrote it.</summary>
    public bool TryGetAuditTrailer(out MachMsgAuditTrailer trailer)
    {
        if (_trailer.Length >= MachMsgAuditTrailer.AuditSize)
        {
            trailer = MemoryMarshal.Read<MachMsgAuditTrailer>(_trailer);
            if (trailer.TrailerSize >= MachMsgAuditTrailer.AuditSize)
            {
                return true;
            }
        }

        trailer = default;
        return false;
    }

    /// <summary>Enumerates descriptors; the reader validated their bounds already.</summary>
    public ref struct DescriptorEnumerator
    {
        private readonly ReadOnlySpan<byte> _message;
        private readonly int _count;
        private int _index;
        private int _offset;

        internal DescriptorEnumerator(ReadOnlySpan<byte> message, int count)
        {
            _message = message;
            _count = count;
            _index = -1;
            _offset = Unsafe.SizeOf<MachMsgHeader>() + sizeof(uint);
            Current = default;
        }

        public MachDescriptor Current { get; private set; }

        public readonly DescriptorEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (++_index >= _count)
            {
                return false;
            }

            ReadOnlySpan<byte> at = _message[_offset..];
            var type = (MachMsgDescriptorType)at[11];
            if (type == MachMsgDescriptorType.Port)
            {
                var port = MemoryMarshal.Read<MachMsgPortDescriptor>(at);
                Current = new MachDescriptor(type, port.Name, (MachMsgTypeName)port.Disposition, 0, 0, false, 0);
            }
            else
            {
                var ool = MemoryMarshal.Read<MachMsgOolDescriptor>(at);
                // OOL-ports and guarded-port descriptors share the 16-byte shape; callers check Type.
                Current = new MachDescriptor(type, 0, (MachMsgTypeName)ool.Pad1, ool.Address, ool.Size, ool.Deallocate != 0, ool.Copy);
            }

            _offset += MachDescriptor.SizeOf(type);
            return true;
        }
    }
}
