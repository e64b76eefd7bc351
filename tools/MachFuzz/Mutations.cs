// The mutation operators: structural ones lie about one field of a draft (sizes, counts, lengths, descriptor types,
// dispositions, attached descriptors); byte ones damage the serialized datagram. Each returns what it did.
using System.Buffers.Binary;
using MachTransport.Mach.Abi;

namespace MachTransport.Fuzz;

internal static class Mutations
{
    public static string ApplyStructural(Random random, Draft draft)
    {
        switch (random.Next(17))
        {
            case 0:
                uint size = CaseGenerator.Interesting(random, (uint)draft.Serialize().Length);
                draft.SizeOverride = size;
                return $"msgh_size={size}";
            case 1:
                uint count = CaseGenerator.Interesting(random, (uint)draft.Descriptors.Count);
                draft.CountOverride = count;
                draft.Bits |= MachMsgBits.Complex;
                return $"descriptor count={count}";
            case 2 or 3:
                return BodyWord(random, draft);
            case 4 when draft.Descriptors.Count > 0:
                byte[] typed = Pick(random, draft.Descriptors);
                typed[11] = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)random.Next(5);
                return $"descriptor type={typed[11]}";
            case 5 when draft.Descriptors.Count > 0:
                byte[] disposed = Pick(random, draft.Descriptors);
                int at = disposed.Length == Draft.PortDescriptorSize ? 10 : 9;
                disposed[at] = CaseGenerator.RandomDisposition(random);
                return $"disposition/copy={disposed[at]}";
            case 6 when draft.Descriptors.Count > 0:
                byte[] sized = Pick(random, draft.Descriptors);
                if (sized.Length == Draft.OolDescriptorSize)
                {
                    uint ool = CaseGenerator.Interesting(random, BinaryPrimitives.ReadUInt32LittleEndian(sized.AsSpan(12)));
                    BinaryPrimitives.WriteUInt32LittleEndian(sized.AsSpan(12), ool);
                    return $"ool size={ool}";
                }

                uint holders = (uint)random.Next(0, 300);
                BinaryPrimitives.WriteUInt32LittleEndian(sized.AsSpan(4), holders);
                return $"port pad1={holders}";
            case 7 when draft.Descriptors.Count > 0:
                byte[] named = Pick(random, draft.Descriptors);
                uint name = random.Next(4) switch
                {
                    0 => 0,
                    1 => 0xFFFFFFFF,
                    2 => 2,
                    _ => (uint)random.Next(),
                };
                BinaryPrimitives.WriteUInt32LittleEndian(named, name);
                return $"descriptor name/address={name}";
            case 8:
                draft.Id = CaseGenerator.RandomId(random);
                return $"id=0x{draft.Id:x}";
            case 9:
                var reply = (MachMsgTypeName)random.Next(15, 23);
                draft.Bits = (draft.Bits & ~MachMsgBits.RemoteMask) | (uint)reply;
                draft.RemotePort = random.Next(3) == 0 ? 0u : 1u;
                if (draft.RemotePort == 1)
                {
                    draft.Fds.Insert(0, CaseGenerator.PortRight(random));
                }

                return $"reply right type={reply} remote={draft.RemotePort}";
            case 10:
                if (random.Next(2) == 0)
                {
                    draft.LocalPort = (uint)random.Next(1, 0x2000);
                    return $"local port={draft.LocalPort}";
                }

                draft.Voucher = random.Next(2) == 0 ? Draft.KernelOriginMarker : (uint)random.Next();
                return $"voucher={draft.Voucher}";
            case 11:
                draft.Bits ^= 1u << random.Next(32);
                return $"bits=0x{draft.Bits:x}";
            case 12 when draft.Fds.Count > 0:
                int swapped = random.Next(draft.Fds.Count);
                draft.Fds[swapped] = CaseGenerator.AnyFd(random);
                return $"fd {swapped} := {draft.Fds[swapped]}";
            case 13:
                FdSpec extra = CaseGenerator.AnyFd(random);
                draft.Fds.Insert(random.Next(draft.Fds.Count + 1), extra);
                return $"extra fd {extra}";
            case 14 when draft.Fds.Count > 0:
                int removed = random.Next(draft.Fds.Count);
                draft.Fds.RemoveAt(removed);
                return $"fd {removed} removed";
            case 15:
                if (random.Next(2) == 0)
                {
                    draft.AddPort(CaseGenerator.PortRight(random), (MachMsgTypeName)random.Next(16, 19));
                    return "extra port descriptor";
                }

                FdSpec memory = CaseGenerator.AnyFd(random);
                uint claimed = memory.Size > 0 ? (uint)Math.Min(memory.Size, uint.MaxValue) : CaseGenerator.Interesting(random, 4096);
                draft.AddOutOfLine(claimed, memory);
                return $"extra ool descriptor size={claimed}";
            default:
                int length = random.Next(4) switch
                {
                    0 => 0,
                    1 => Math.Max(0, draft.Body.Length - random.Next(1, 9)),
                    2 => draft.Body.Length + random.Next(1, 64),
                    _ => random.Next(0, 70_000),
                };
                byte[] body = new byte[length];
                random.NextBytes(body);
                draft.Body.AsSpan(0, Math.Min(length, draft.Body.Length)).CopyTo(body);
                draft.Body = body;
                return $"body length={length}";
        }
    }

    public static string ApplyBytes(Random random, ref byte[] datagram)
    {
        switch (random.Next(4))
        {
            case 0 when datagram.Length > 0:
                int flips = random.Next(1, 9);
                for (int i = 0; i < flips; i++)
                {
                    datagram[random.Next(datagram.Length)] ^= (byte)(1 << random.Next(8));
                }

                return $"{flips} bit flips";
            case 1:
                int cut = random.Next(datagram.Length + 1);
                datagram = datagram[..cut];
                return $"truncated to {cut}";
            case 2:
                int grown = datagram.Length + random.Next(1, 33);
                byte[] longer = new byte[grown];
                random.NextBytes(longer);
                datagram.CopyTo(longer, 0);
                datagram = longer;
                return $"extended to {grown}";
            default:
                if (datagram.Length < 4)
                {
                    return "none";
                }

                int offset = random.Next(datagram.Length / 4) * 4;
                uint value = CaseGenerator.Interesting(random, BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset)));
                BinaryPrimitives.WriteUInt32LittleEndian(datagram.AsSpan(offset), value);
                return $"word@{offset}={value}";
        }
    }

    private static string BodyWord(Random random, Draft draft)
    {
        if (draft.Body.Length < 4)
        {
            draft.SetBody(CaseGenerator.Interesting(random, 0), CaseGenerator.Interesting(random, 0));
            return "body := two interesting words";
        }

        int word = random.Next(draft.Body.Length / 4);
        uint value = CaseGenerator.Interesting(random, BinaryPrimitives.ReadUInt32LittleEndian(draft.Body.AsSpan(word * 4)));
        BinaryPrimitives.WriteUInt32LittleEndian(draft.Body.AsSpan(word * 4), value);
        return $"body word {word}={value}";
    }

    private static T Pick<T>(Random random, List<T> items) => items[random.Next(items.Count)];
}
