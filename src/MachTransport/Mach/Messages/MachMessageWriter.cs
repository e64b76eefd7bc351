using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Messages;

/// <summary>
/// Lays out an outgoing message exactly as XNU expects it: header, then (if any descriptors) the body
/// count and the descriptors, then inline data, the total rounded up to a multiple of 4.
/// </summary>
internal ref struct MachMessageWriter
{
    private readonly Span<byte> _buffer;
    private readonly int _descriptorCount;
    private int _descriptorsWritten;
    private int _position;

    /// <summary>Starts a message; <paramref name="descriptorCount"/> descriptors must follow before any inline data.</summary>
    public MachMessageWriter(
        Span<byte> buffer,
        int id,
        uint remotePort,
        MachMsgTypeName remoteDisposition,
        uint localPort = MachPort.Null,
        MachMsgTypeName localDisposition = MachMsgTypeName.None,
        int descriptorCount = 0)
    {
        int start = Unsafe.SizeOf<MachMsgHeader>() + (descriptorCount > 0 ? sizeof(uint) : 0);
        if (buffer.Length < start)
        {
            throw new ArgumentException("The buffer cannot hold a Mach message header.", nameof(buffer));
        }

        _buffer = buffer;
        _descriptorCount = descriptorCount;
        var header = new MachMsgHeader
        {
            Bits = MachMsgBits.Make(remoteDisposition, localDisposition, complex: descriptorCount > 0),
            RemotePort = remotePort,
            LocalPort = localPort,
            Id = id,
        };
        MemoryMarshal.Write(buffer, in header);
        if (descriptorCount > 0)
        {
            MemoryMarshal.Write(buffer[Unsafe.SizeOf<MachMsgHeader>()..], (uint)descriptorCount);
        }

        _position = start;
    }

    /// <summary>Adds a port descriptor carrying <paramref name="name"/> with <paramref name="disposition"/>.</summary>
    public void AddPort(uint name, MachMsgTypeName disposition)
        => AddDescriptor(MachMsgPortDescriptor.Create(name, disposition));

    /// <summary>Adds an out-of-line memory descriptor.</summary>
    public void AddOutOfLine(ulong address, uint size, bool deallocate, MachMsgCopyOptions copy = MachMsgCopyOptions.VirtualCopy)
        => AddDescriptor(MachMsgOolDescriptor.Create(address, size, deallocate, copy));

    /// <summary>Space for <paramref name="length"/> inline bytes after the descriptors; write into it, it is already counted.</summary>
    public Span<byte> AppendInline(int length)
    {
        EnsureDescriptorsComplete();
        Span<byte> span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }

    /// <summary>Appends <paramref name="data"/> inline.</summary>
    public void WriteInline(ReadOnlySpan<byte> data) => data.CopyTo(AppendInline(data.Length));

    /// <summary>Appends an unmanaged value inline in native (little-endian) byte order.</summary>
    public void WriteInline<T>(T value) where T : unmanaged
        => MemoryMarshal.Write(AppendInline(Unsafe.SizeOf<T>()), in value);

    /// <summary>Pads to a multiple of 4, stores <c>msgh_size</c> and returns the send size.</summary>
    public int Complete()
    {
        EnsureDescriptorsComplete();
        int size = (_position + 3) & ~3;
        if (size > _buffer.Length)
        {
            throw new ArgumentException($"The buffer has no room to pad the message to {size} bytes.");
        }

        _buffer[_position..size].Clear();
        MemoryMarshal.AsRef<MachMsgHeader>(_buffer).Size = (uint)size;
        return size;
    }

    private void AddDescriptor<T>(T descriptor) where T : unmanaged
    {
        if (_descriptorsWritten == _descriptorCount)
        {
            throw new InvalidOperationException($"The message was started with {_descriptorCount} descriptors.");
        }

        MemoryMarshal.Write(_buffer[_position..], in descriptor);
        _position += Unsafe.SizeOf<T>();
        _descriptorsWritten++;
    }

    private readonly void EnsureDescriptorsComplete()
    {
        if (_descriptorsWritten != _descriptorCount)
        {
            throw new InvalidOperationException($"The message declares {_descriptorCount} descriptors but {_descriptorsWritten} were added.");
        }
    }
}
