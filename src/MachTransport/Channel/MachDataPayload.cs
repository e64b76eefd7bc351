namespace MachTransport.Channel;

/// <summary>A DATA message taken apart: the payload inline, or the out-of-line region that holds it.</summary>
internal readonly ref struct MachDataPayload(ReadOnlySpan<byte> inline, ulong outOfLineAddress, uint length)
{
    public ReadOnlySpan<byte> Inline { get; } = inline;

    /// <summary>The received region (now ours to deallocate), or 0 for an inline payload.</summary>
    public ulong OutOfLineAddress { get; } = outOfLineAddress;

    public uint Length { get; } = length;

    public bool IsOutOfLine => OutOfLineAddress != 0;
}
