using System.Text;
using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §9 (name_t = char[128]: at most 127 bytes + NUL; bootstrap calls return kern_return_t).
[Trait("Category", "Abi")]
public class BootstrapNameTests
{
    [Fact]
    public void NameBufferIs128BytesWith127Usable()
    {
        Assert.Equal(128, BootstrapName.BufferSize);
        Assert.Equal(127, BootstrapName.MaxByteLength);
    }

    [Fact]
    public void InvalidNameIsKernInvalidArgument() => Assert.Equal(4, (int)BootstrapName.InvalidName);

    [Fact]
    public void NameIsWrittenAsNulTerminatedUtf8AndTheRestZeroFilled()
    {
        byte[] nameT = new byte[128];
        nameT.AsSpan().Fill(0xCC);

        Assert.True(BootstrapName.TryEncode("com.example.mach-π", nameT));

        byte[] expected = new byte[128];
        "com.example.mach-"u8.CopyTo(expected);
        expected[17] = 0xCF;                                  // U+03C0 in UTF-8
        expected[18] = 0x80;
        Assert.Equal(expected, nameT);
    }

    [Fact]
    public void ExactlyOneHundredTwentySevenBytesFits()
    {
        byte[] nameT = new byte[128];
        Assert.True(BootstrapName.TryEncode(new string('a', 127), nameT));
        Assert.Equal((byte)'a', nameT[126]);
        Assert.Equal(0, nameT[127]);
    }

    [Theory]
    [InlineData(128, "a")]
    [InlineData(64, "é")]                                      // 64 chars but 128 UTF-8 bytes
    [InlineData(43, "€")]                                      // 43 chars, 129 bytes
    public void NamesLongerThan127Utf8BytesAreRefused(int repeat, string unit)
    {
        string name = string.Concat(Enumerable.Repeat(unit, repeat));
        Assert.True(Encoding.UTF8.GetByteCount(name) > 127);
        byte[] nameT = new byte[128];
        nameT.AsSpan().Fill(0xCC);

        Assert.False(BootstrapName.TryEncode(name, nameT));
        Assert.All(nameT, b => Assert.Equal(0, b));           // nothing half-written is left behind
    }

    [Fact]
    public void MultiByteNameOf127BytesFits()
    {
        string name = string.Concat(Enumerable.Repeat("é", 63)) + "a";
        byte[] nameT = new byte[128];
        Assert.True(BootstrapName.TryEncode(name, nameT));
        Assert.Equal((byte)'a', nameT[126]);
        Assert.Equal(0, nameT[127]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("com.example\0hidden")]                       // C would see only "com.example"
    public void EmptyAndEmbeddedNulAreRefused(string name)
        => Assert.False(BootstrapName.TryEncode(name, new byte[128]));

    [Fact]
    public void InvalidUtf16IsRefusedNotReplaced()
    {
        // Built at run time: attribute arguments are stored as UTF-8 and would already carry U+FFFD.
        string loneSurrogate = "com.example." + (char)0xD800;
        Assert.False(BootstrapName.TryEncode(loneSurrogate, new byte[128]));
    }

    [Fact]
    public void DestinationSmallerThanANameTIsAProgrammingError()
        => Assert.Throws<ArgumentOutOfRangeException>(() => BootstrapName.TryEncode("x", new byte[127]));
}
