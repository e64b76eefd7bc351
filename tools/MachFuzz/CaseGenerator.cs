// Turns (seed, index) into a fuzz case: a valid message of one protocol shape (docs/protocol.md), then zero or more
// structure-aware mutations. Nothing here depends on state, so every case can be regenerated alone.
using System.Buffers.Binary;
using System.Text;
using MachTransport.Mach.Abi;

namespace MachTransport.Fuzz;

internal static class CaseGenerator
{
    private const uint ByteWindow = 1 << 20;
    private const uint MessageWindow = 512;
    private const uint MaxInline = 16384;
    private const int DeadNameId = 72;

    // CONNECT, ACCEPT, REJECT, DATA, CREDIT, FIN, ABORT, plus ids near them and the notification ids.
    private static readonly int[] s_ids = [0x4D54_0001, 0x4D54_0002, 0x4D54_0003, 0x4D54_0010, 0x4D54_0011, 0x4D54_0012, 0x4D54_0013,
        0x4D54_0000, 0x4D54_0014, 0x4D54_00FF, DeadNameId, 70, 71, 0, -1, int.MaxValue];

    /// <summary>The HTTP/2 client preface and an empty SETTINGS frame: a connection that got them waits for requests.</summary>
    public static readonly byte[] Http2Preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];

    public static FuzzCase Generate(long seed, long index)
    {
        var random = new Random(Mix(seed, index));
        FuzzTarget target = random.Next(100) < 40 ? FuzzTarget.Service : FuzzTarget.Connection;
        bool fresh = target == FuzzTarget.Connection && random.Next(100) < 40;
        Shape shape = PickShape(random, target);
        Draft draft = Valid(random, shape);
        var mutations = new List<string>();
        int count = random.Next(100) switch
        {
            < 12 => 0,
            < 55 => 1,
            < 80 => 2,
            < 93 => 3,
            _ => 6,
        };

        for (int i = 0; i < count; i++)
        {
            mutations.Add(Mutations.ApplyStructural(random, draft));
        }

        byte[] datagram = draft.Serialize();
        if (count > 0 && random.Next(100) < 30)
        {
            mutations.Add(Mutations.ApplyBytes(random, ref datagram));
        }

        return new FuzzCase(seed, index, target, fresh, shape, datagram, [.. draft.Fds], mutations);
    }

    /// <summary>A well-formed DATA of <paramref name="payload"/> (the preamble of a fuzzed connection).</summary>
    public static byte[] InlineData(ReadOnlySpan<byte> payload)
    {
        var draft = new Draft { Id = 0x4D54_0010 };
        draft.Body = new byte[4 + ((payload.Length + 3) & ~3)];
        BinaryPrimitives.WriteUInt32LittleEndian(draft.Body, (uint)payload.Length);
        payload.CopyTo(draft.Body.AsSpan(4));
        return draft.Serialize();
    }

    private static int Mix(long seed, long index)
    {
        ulong x = (ulong)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)index + 0x632BE59BD9B4E019UL);
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 29;
        return (int)(x ^ (x >> 32));
    }

    private static Shape PickShape(Random random, FuzzTarget target)
    {
        int roll = random.Next(100);
        return target == FuzzTarget.Service
            ? roll switch
            {
                < 55 => Shape.Connect,
                < 60 => Shape.Accept,
                < 64 => Shape.Reject,
                < 72 => Shape.DataInline,
                < 78 => Shape.DataOutOfLine,
                < 82 => Shape.Credit,
                < 85 => Shape.Fin,
                < 88 => Shape.Abort,
                < 92 => Shape.DeadNameNotification,
                _ => Shape.Garbage,
            }
            : roll switch
            {
                < 28 => Shape.DataInline,
                < 48 => Shape.DataOutOfLine,
                < 62 => Shape.Credit,
                < 70 => Shape.Fin,
                < 77 => Shape.Abort,
                < 81 => Shape.Connect,
                < 85 => Shape.Accept,
                < 88 => Shape.Reject,
                < 92 => Shape.DeadNameNotification,
                _ => Shape.Garbage,
            };
    }

    private static Draft Valid(Random random, Shape shape)
    {
        var draft = new Draft();
        switch (shape)
        {
            case Shape.Connect:
                draft.Id = 0x4D54_0001;
                draft.AddPort(PortRight(random));
                draft.SetBody(1, 1, ByteWindow, MessageWindow, MaxInline);
                break;
            case Shape.Accept:
                draft.Id = 0x4D54_0002;
                draft.AddPort(PortRight(random));
                draft.SetBody(1, ByteWindow, MessageWindow, MaxInline);
                break;
            case Shape.Reject:
                draft.Id = 0x4D54_0003;
                byte[] text = Encoding.UTF8.GetBytes("server busy");
                draft.Body = new byte[8 + ((text.Length + 3) & ~3)];
                BinaryPrimitives.WriteUInt32LittleEndian(draft.Body, (uint)random.Next(1, 8));
                BinaryPrimitives.WriteUInt32LittleEndian(draft.Body.AsSpan(4), (uint)text.Length);
                text.CopyTo(draft.Body, 8);
                break;
            case Shape.DataInline:
                draft.Id = 0x4D54_0010;
                int length = random.Next(100) < 80 ? random.Next(1, 200) : random.Next(1, (int)MaxInline + 1);
                byte[] payload = new byte[length];
                random.NextBytes(payload);
                draft.Body = new byte[4 + ((length + 3) & ~3)];
                BinaryPrimitives.WriteUInt32LittleEndian(draft.Body, (uint)length);
                payload.CopyTo(draft.Body, 4);
                break;
            case Shape.DataOutOfLine:
                draft.Id = 0x4D54_0010;
                uint size = random.Next(100) switch
                {
                    < 10 => 1u << 30, // a GiB-sized sparse region
                    < 20 => ByteWindow + 1,
                    _ => (uint)random.Next(1, 200_000),
                };
                draft.AddOutOfLine(size, new FdSpec(FdKind.SealedMemfd, size));
                draft.SetBody(size);
                break;
            case Shape.Credit:
                draft.Id = 0x4D54_0011;
                draft.SetBody((uint)random.Next(0, 4096), (uint)random.Next(0, 4));
                break;
            case Shape.Fin:
                draft.Id = 0x4D54_0012;
                break;
            case Shape.Abort:
                draft.Id = 0x4D54_0013;
                draft.SetBody((uint)random.Next(0, 8));
                break;
            case Shape.DeadNameNotification:
                draft.Id = DeadNameId;
                draft.Voucher = random.Next(2) == 0 ? Draft.KernelOriginMarker : 0;
                draft.SetBody((uint)random.Next(0, 0x2000));
                break;
            default:
                byte[] garbage = new byte[random.Next(0, 320)];
                random.NextBytes(garbage);
                draft.Body = garbage;
                draft.Bits = (uint)random.Next();
                draft.Id = s_ids[random.Next(s_ids.Length)];
                break;
        }

        return draft;
    }

    /// <summary>The right a CONNECT or ACCEPT carries: mostly a live port of the fuzzer, sometimes a bogus one.</summary>
    public static FdSpec PortRight(Random random) => random.Next(100) switch
    {
        < 60 => new FdSpec(FdKind.LivePort),
        < 70 => new FdSpec(FdKind.DeadPort),
        < 76 => new FdSpec(FdKind.ServicePort),
        < 84 => new FdSpec(FdKind.ConnectionPort),
        < 88 => new FdSpec(FdKind.PathOfDevNull),
        < 92 => new FdSpec(FdKind.SeqPacketEnd),
        _ => AnyFd(random),
    };

    /// <summary>Any descriptor at all, with memfd sizes that are short, exact, page-sized or GiB-sized sparse.</summary>
    public static FdSpec AnyFd(Random random)
    {
        var kind = (FdKind)random.Next(Enum.GetValues<FdKind>().Length);
        long size = kind is FdKind.SealedMemfd or FdKind.UnsealedMemfd or FdKind.WritableMemfd or FdKind.RegularFile
            ? random.Next(4) switch
            {
                0 => random.Next(0, 64),
                1 => 4096,
                2 => random.Next(1, 300_000),
                _ => 1L << 30,
            }
            : 0;
        return new FdSpec(kind, size);
    }

    public static int RandomId(Random random) => random.Next(3) == 0 ? random.Next() : s_ids[random.Next(s_ids.Length)];

    public static uint Interesting(Random random, uint actual) => random.Next(24) switch
    {
        0 => 0,
        1 => 1,
        2 => 3,
        3 => 4,
        4 => 0x7F,
        5 => 0xFF,
        6 => 0x3FFF,
        7 => 0x4000,
        8 => 0x4001,
        9 => 0xFFFF,
        10 => 0x10000,
        11 => 0x10001,
        12 => ByteWindow,
        13 => ByteWindow + 1,
        14 => 1u << 30,
        15 => 0x7FFFFFFF,
        16 => 0x80000000,
        17 => 0xFFFFFFFF,
        18 => 0xFFFFFFFC,
        19 => actual + 1,
        20 => actual - 1,
        21 => actual * 2,
        22 => actual + 4,
        _ => (uint)random.Next() ^ ((uint)random.Next(2) << 31),
    };

    public static byte RandomDisposition(Random random) => random.Next(4) == 0
        ? (byte)random.Next(256)
        : (byte)(random.Next(2) == 0 ? random.Next(15, 26) : (int)MachMsgTypeName.None);
}
