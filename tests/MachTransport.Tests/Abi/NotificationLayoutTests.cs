using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §7.1 (ids), §7.2 (received notification layouts), §12 (NDR_record_t 8 bytes, align 1);
// NDR field order and NDR_INT_LITTLE_ENDIAN = 1 from osfmk/mach/ndr.h.
[Trait("Category", "Abi")]
public class NotificationLayoutTests
{
    [Fact]
    public void DeadNameNotificationIs36BytesWithNdrAt24AndNotPortAt32()
    {
        Assert.Equal(36, Unsafe.SizeOf<MachDeadNameNotification>());
        Assert.Equal(0, (int)Marshal.OffsetOf<MachDeadNameNotification>(nameof(MachDeadNameNotification.Header)));
        Assert.Equal(24, (int)Marshal.OffsetOf<MachDeadNameNotification>(nameof(MachDeadNameNotification.Ndr)));
        Assert.Equal(32, (int)Marshal.OffsetOf<MachDeadNameNotification>(nameof(MachDeadNameNotification.NotPort)));
    }

    [Fact]
    public void NdrRecordIsEightSingleBytes()
    {
        Assert.Equal(8, Unsafe.SizeOf<NdrRecord>());
        Assert.Equal(4, (int)Marshal.OffsetOf<NdrRecord>(nameof(NdrRecord.IntRep)));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 1, 0, 0, 0 }, Bytes.Of(NdrRecord.Native));
    }

    [Fact]
    public void DeadNameNotificationBytesReadBack()
    {
        // A received MACH_NOTIFY_DEAD_NAME: sent to a send-once right, so LOCAL = 18 (§7.2); msgh_size 36.
        var bytes = new byte[36 + 20];
        Bytes.Put32(bytes, 0, 18u << 8);
        Bytes.Put32(bytes, 4, 36);
        Bytes.Put32(bytes, 12, 0x707);
        Bytes.Put32(bytes, 20, 72);
        bytes[28] = 1;
        Bytes.Put32(bytes, 32, 0x1d03);
        Bytes.Put32(bytes, 40, 20);

        var notification = MemoryMarshal.Read<MachDeadNameNotification>(bytes);

        Assert.Equal(MachNotifyId.DeadName, notification.Header.Id);
        Assert.Equal(36u, notification.Header.Size);
        Assert.Equal(0x707u, notification.Header.LocalPort);
        Assert.Equal(MachMsgTypeName.PortSendOnce, notification.Header.LocalDisposition);
        Assert.Equal(1, notification.Ndr.IntRep);
        Assert.Equal(0x1d03u, notification.NotPort);
    }

    [Fact]
    public void PortDestroyedNotificationCarriesTheReceiveRightInAPortDescriptorAt28()
    {
        // §7.2: complex, msgh_size 40, count at 24, name at 28, disposition byte 38 = 16, type byte 39 = 0.
        var bytes = new byte[40 + 20];
        Bytes.Put32(bytes, 0, 0x80000000 | (18u << 8));
        Bytes.Put32(bytes, 4, 40);
        Bytes.Put32(bytes, 20, 69);
        Bytes.Put32(bytes, 24, 1);
        Bytes.Put32(bytes, 28, 0x2b03);
        bytes[38] = 16;
        bytes[39] = 0;
        Bytes.Put32(bytes, 44, 20);

        Assert.True(MachMessageReader.TryCreate(bytes, out MachMessageReader reader, out string? error), error);
        Assert.Equal(MachNotifyId.PortDestroyed, reader.Id);
        Assert.Equal(1, reader.DescriptorCount);
        int seen = 0;
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            seen++;
            Assert.Equal(MachMsgDescriptorType.Port, descriptor.Type);
            Assert.Equal(0x2b03u, descriptor.Name);
            Assert.Equal(MachMsgTypeName.PortReceive, descriptor.Disposition);
        }

        Assert.Equal(1, seen);
        Assert.Equal(0, reader.Body.Length);
    }
}
