using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §3.2 (bitfield bytes, little-endian), §3.3 (descriptor layouts on LP64), §3.4 (type and copy constants), §12.
[Trait("Category", "Abi")]
public class DescriptorLayoutTests
{
    [Fact]
    public void PortDescriptorIs12BytesNameAt0DispositionByte10TypeByte11()
    {
        Assert.Equal(12, Unsafe.SizeOf<MachMsgPortDescriptor>());
        byte[] bytes = Bytes.Of(MachMsgPortDescriptor.Create(0x1a03, MachMsgTypeName.MakeSend));

        Assert.Equal(0x1a03u, Bytes.U32(bytes, 0));
        Assert.Equal(0u, Bytes.U32(bytes, 4));
        Assert.Equal(0, bytes[8]);
        Assert.Equal(0, bytes[9]);
        Assert.Equal(20, bytes[10]);
        Assert.Equal(0, bytes[11]);
        // pad2:16, disposition:8, type:8 read as one LE word at +8.
        Assert.Equal(20u << 16, Bytes.U32(bytes, 8));
    }

    [Fact]
    public void OolDescriptorIs16BytesWithAddressFirstAndSizeLast()
    {
        Assert.Equal(16, Unsafe.SizeOf<MachMsgOolDescriptor>());
        byte[] bytes = Bytes.Of(MachMsgOolDescriptor.Create(0x0000_7f00_1234_5000, 0x0004_0000, deallocate: true, MachMsgCopyOptions.VirtualCopy));

        Assert.Equal(0x0000_7f00_1234_5000ul, Bytes.U64(bytes, 0));
        Assert.Equal(1, bytes[8]);
        Assert.Equal(1, bytes[9]);
        Assert.Equal(0, bytes[10]);
        Assert.Equal(1, bytes[11]);
        Assert.Equal(0x0004_0000u, Bytes.U32(bytes, 12));
    }

    [Fact]
    public void OolBitfieldWordMatchesTheGccCheck()
    {
        // §3.2: deallocate=1, copy=2, type=1 yields the word 0x01000201 at +8.
        var descriptor = new MachMsgOolDescriptor { Deallocate = 1, Copy = MachMsgCopyOptions.Allocate, Type = MachMsgDescriptorType.Ool };

        Assert.Equal(0x01000201u, Bytes.U32(Bytes.Of(descriptor), 8));
    }

    [Fact]
    public void OolDescriptorFieldOffsets()
    {
        Assert.Equal(0, (int)Marshal.OffsetOf<MachMsgOolDescriptor>(nameof(MachMsgOolDescriptor.Address)));
        Assert.Equal(8, (int)Marshal.OffsetOf<MachMsgOolDescriptor>(nameof(MachMsgOolDescriptor.Deallocate)));
        Assert.Equal(9, (int)Marshal.OffsetOf<MachMsgOolDescriptor>(nameof(MachMsgOolDescriptor.Copy)));
        Assert.Equal(10, (int)Marshal.OffsetOf<MachMsgOolDescriptor>(nameof(MachMsgOolDescriptor.Pad1)));
        Assert.Equal(11, (int)Marshal.OffsetOf<MachMsgOolDescriptor>(nameof(MachMsgOolDescriptor.Type)));
        Assert.Equal(12, (int)Marshal.OffsetOf<MachMsgOolDescriptor>(nameof(MachMsgOolDescriptor.Size)));
    }

    [Fact]
    public void OolDescriptorAfterTheBodyCountStartsAt28NotPaddedTo32()
    {
        // pack(4): the 8-byte address is only 4-aligned, so header + count + OOL descriptor is 44 bytes (§3.1, §3.5).
        Assert.Equal(44, Unsafe.SizeOf<BaseAndOol>());
        Assert.Equal(28, (int)Marshal.OffsetOf<BaseAndOol>(nameof(BaseAndOol.Descriptor)));
    }

    [Theory]
    [InlineData(MachMsgDescriptorType.Port, 12)]
    [InlineData(MachMsgDescriptorType.Ool, 16)]
    [InlineData(MachMsgDescriptorType.OolPorts, 16)]
    [InlineData(MachMsgDescriptorType.OolVolatile, 16)]
    [InlineData(MachMsgDescriptorType.GuardedPort, 16)]
    internal void DescriptorSizeIs12ForPortsAnd16OtherwiseOnLp64(MachMsgDescriptorType type, int expected)
        => Assert.Equal(expected, MachDescriptor.SizeOf(type));

    public static TheoryData<string, long> DescriptorTypes => new()
    {
        { "Port", 0 },
        { "Ool", 1 },
        { "OolPorts", 2 },
        { "OolVolatile", 3 },
        { "GuardedPort", 4 },
    };

    public static TheoryData<string, long> CopyOptions => new()
    {
        { "PhysicalCopy", 0 },
        { "VirtualCopy", 1 },
        { "Allocate", 2 },
        { "Overwrite", 3 },
    };

    [Fact]
    public void DescriptorTypeValues() => DocTable.AssertEnumMatches<MachMsgDescriptorType>(DescriptorTypes);

    [Fact]
    public void CopyOptionValues() => DocTable.AssertEnumMatches<MachMsgCopyOptions>(CopyOptions);

    [Fact]
    public void TypeAndCopyFieldsAreSingleBytes()
    {
        Assert.Equal(1, Unsafe.SizeOf<MachMsgDescriptorType>());
        Assert.Equal(1, Unsafe.SizeOf<MachMsgCopyOptions>());
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct BaseAndOol
    {
        public MachMsgHeader Header;
        public uint Count;
        public MachMsgOolDescriptor Descriptor;
    }
}
