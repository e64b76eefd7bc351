using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace MachTransport.Tests.Transport;

/// <summary>For tests that build the transport factory without a host: Kestrel's own factory is internal to it.</summary>
internal sealed class SharedMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public static SharedMemoryPoolFactory Instance { get; } = new();

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => MemoryPool<byte>.Shared;
}
