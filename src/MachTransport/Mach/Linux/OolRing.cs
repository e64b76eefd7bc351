namespace MachTransport.Mach.Linux;

/// <summary>
/// The layout of an out-of-line ring: a memfd shared by exactly two processes, the sender and the owner of the
/// destination port's receive right, that carries copied OOL payloads of up to <see cref="MaxPayload"/> bytes
/// without a memfd per message (docs/linux-emulation.md, "Out-of-line memory"). The file is a header page of one
/// 32-bit state per chunk (0 free, 1 in flight) followed by <see cref="ChunkCount"/> chunks of
/// <see cref="ChunkSize"/> bytes; a payload takes a run of contiguous chunks. The sender claims a run, writes the
/// payload and names the run in the datagram; the receiver copies it out at receive time and sets the run free.
/// Both processes can write everything in the file, so nothing is ever parsed from it: the receiver only copies
/// bytes out (its copy is its own, as in Mach), and the sender only reads the states, which a hostile receiver can
/// at worst set so that its own data is overwritten or the sender stops using the ring.
/// </summary>
internal static class OolRing
{
    /// <summary>The allocation unit. 64 KiB: the smallest out-of-line payload (the inline limit) takes one.</summary>
    public const uint ChunkSize = 64 << 10;

    /// <summary>
    /// Chunks in a ring: 2 MiB of data, twice the default Mach byte window, so a window's worth is in flight with room
    /// to spare. Its pages stay allocated (that is the point: no zero-fill per message) for as long as the connection
    /// lasts, so it is also what one connection that ever sent out of line keeps resident; the sender takes the lowest
    /// free run, so a connection that never has much in flight touches only that much.
    /// </summary>
    public const uint ChunkCount = 32;

    /// <summary>The header: the chunk states, padded to a page (4 KiB pages; larger pages just map the header's page too).</summary>
    public const uint HeaderSize = 4096;

    /// <summary>The exact size of a ring's file; the receiver refuses any other.</summary>
    public const long FileSize = HeaderSize + ((long)ChunkSize * ChunkCount);

    /// <summary>
    /// The largest payload the ring carries, and the most one datagram may name through it: what the receiver copies
    /// per datagram at most (<see cref="ReceivedRegionPool.MaxPooledSize"/>). Larger payloads travel as sealed memfds.
    /// </summary>
    public const uint MaxPayload = (uint)ReceivedRegionPool.MaxPooledSize;

    /// <summary>
    /// The wire OOL descriptor's address for a ring payload whose datagram attaches the ring's memfd: this tag in the
    /// low 32 bits, the first chunk in the high 32 bits.
    /// </summary>
    public const ulong WireTag = 2;

    /// <summary>
    /// The tag of a ring payload whose datagram attaches nothing: the run is in the ring the connection already
    /// delivered, which the receive right's owner holds (it said so in <see cref="HeldWord"/>).
    /// </summary>
    public const ulong HeldWireTag = 3;

    public const uint Free = 0;

    public const uint InFlight = 1;

    /// <summary>
    /// The header word (a 32-bit index) in which the receive right's owner says it holds the ring (<see cref="Held"/>):
    /// mapped, and its memfd parked to hand on with the receive right. Until then every datagram attaches the ring.
    /// Either peer can write it: a receiver that lies only loses its own messages (refused: it has no ring).
    /// </summary>
    public const uint HeldWord = 512;

    public const uint Held = 1;

    public static ulong WireAddress(uint firstChunk, bool attached) => (attached ? WireTag : HeldWireTag) | ((ulong)firstChunk << 32);

    public static bool IsWireAddress(ulong address) => (address & 0xFFFF_FFFFUL) is WireTag or HeldWireTag;

    /// <summary>Whether the datagram attaches the ring's memfd for this payload.</summary>
    public static bool IsAttached(ulong wireAddress) => (wireAddress & 0xFFFF_FFFFUL) == WireTag;

    public static uint FirstChunk(ulong wireAddress) => (uint)(wireAddress >> 32);

    public static uint ChunksFor(uint length) => (length + ChunkSize - 1) / ChunkSize;

    /// <summary>Whether a run named by a peer lies within the ring: every index and length is checked against the ring's size.</summary>
    public static bool IsValidRun(uint firstChunk, uint length)
        => length > 0 && length <= MaxPayload && firstChunk < ChunkCount && ChunksFor(length) <= ChunkCount - firstChunk;

    public static long DataOffset(uint chunk) => HeaderSize + ((long)chunk * ChunkSize);
}
