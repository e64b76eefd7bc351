using MachTransport.Mach.Messages;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §2 (msgh_size excludes the trailer), §3.1 (complex body count at 24), §3.3 (descriptors
// are 12 or 16 bytes, walked by the type byte at +11), §5.3 (sizes are multiples of 4). A message from
// another process may lie about any of these; the reader must refuse it rather than read past the buffer.
[Trait("Category", "Abi")]
public class MessageReaderValidationTests
{
    public static TheoryData<string, byte[]> LyingMessages => new()
    {
        { "shorter than a header", new byte[20] },
        { "msgh_size below 24", Message(bufferLength: 48, msghSize: 20) },
        { "msgh_size not a multiple of 4", Message(bufferLength: 48, msghSize: 26) },
        { "msgh_size beyond the buffer", Message(bufferLength: 60, msghSize: 64) },
        { "msgh_size far beyond the buffer", Message(bufferLength: 60, msghSize: 0xFFFFFFFC) },
        { "complex without room for the count", Message(bufferLength: 60, msghSize: 24, complex: true) },
        { "count larger than the message can hold", Message(bufferLength: 80, msghSize: 44, complex: true, count: 2) },
        { "count of 2^32 - 1", Message(bufferLength: 80, msghSize: 44, complex: true, count: 0xFFFFFFFF) },
        { "OOL descriptor in a 12-byte slot", Message(bufferLength: 80, msghSize: 40, complex: true, count: 1, types: [1]) },
        { "second OOL descriptor runs past msgh_size", Message(bufferLength: 80, msghSize: 56, complex: true, count: 2, types: [1, 1]) },
        { "descriptor only fits the trailer, not msgh_size", Message(bufferLength: 96, msghSize: 40, complex: true, count: 2, types: [0, 0]) },
    };

    [Theory]
    [MemberData(nameof(LyingMessages))]
    public void ReaderRejects(string lie, byte[] buffer)
    {
        Assert.False(MachMessageReader.TryCreate(buffer, out _, out string? error), lie);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void ReaderAcceptsTheHonestVersionOfTheSameShapes()
    {
        // Controls for the cases above: the same shapes with truthful sizes parse.
        Assert.True(MachMessageReader.TryCreate(Message(bufferLength: 48, msghSize: 24), out _, out _));
        Assert.True(MachMessageReader.TryCreate(Message(bufferLength: 60, msghSize: 28, complex: true, count: 0), out _, out _));
        Assert.True(MachMessageReader.TryCreate(Message(bufferLength: 80, msghSize: 44, complex: true, count: 1, types: [1]), out _, out _));
        Assert.True(MachMessageReader.TryCreate(Message(bufferLength: 80, msghSize: 60, complex: true, count: 2, types: [1, 1]), out _, out _));
        Assert.True(MachMessageReader.TryCreate(Message(bufferLength: 96, msghSize: 52, complex: true, count: 2, types: [0, 0]), out var reader, out _));
        Assert.Equal(2, reader.DescriptorCount);
    }

    private static byte[] Message(int bufferLength, uint msghSize, bool complex = false, uint count = 0, byte[]? types = null)
    {
        var buffer = new byte[bufferLength];
        Bytes.Put32(buffer, 0, (complex ? 0x80000000u : 0) | 17u);
        Bytes.Put32(buffer, 4, msghSize);
        if (complex && bufferLength >= 28)
        {
            Bytes.Put32(buffer, 24, count);
        }

        int offset = 28;
        foreach (byte type in types ?? [])
        {
            if (offset + 12 <= bufferLength)
            {
                buffer[offset + 11] = type;
            }

            offset += type == 0 ? 12 : 16;
        }

        return buffer;
    }
}
