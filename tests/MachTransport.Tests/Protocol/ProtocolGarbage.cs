// Messages no well-behaved peer sends on a connection, one per kind, each with the reason the receiving channel
// must log for it: shared by the in-process protocol tests (which check the reason, so each kind provably takes
// its own path) and the cross-process hostile tests (which check that only that connection is lost).
using MachTransport.Channel;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Protocol;

internal static class ProtocolGarbage
{
    public static TheoryData<string> Kinds => ["lying-size", "unknown-id", "smuggled-right", "oversized-ool", "credit-overflow"];

    /// <summary>Sends garbage of <paramref name="kind"/> to a connection port, as the peer pinned on it.</summary>
    public static MachMsgReturn Send(string kind, uint target) => kind switch
    {
        "lying-size" => MachTestMessages.Send(target, MachMsgTypeName.CopySend, MachProtocol.Data, DataPrefix(1000, 8)),
        "unknown-id" => MachTestMessages.Send(target, MachMsgTypeName.CopySend, 0x4D54_0099, new byte[16]),
        "smuggled-right" => SendWithRight(target),
        "oversized-ool" => SendOversizedOol(target),
        "credit-overflow" => MachTestMessages.Send(target, MachMsgTypeName.CopySend, MachProtocol.Credit, RawPeer.Words(uint.MaxValue, 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such kind of garbage"),
    };

    /// <summary>What the channel logs as the reason for closing on garbage of <paramref name="kind"/> (1 MiB default window).</summary>
    public static string Reason(string kind) => kind switch
    {
        "lying-size" => "inline DATA claiming 1000 bytes in a 12-byte body",
        "unknown-id" => "unexpected message 0x4d540099",
        "smuggled-right" => "out-of-line DATA of 4 bytes with 1 descriptors (type Port",
        "oversized-ool" => $"out-of-line DATA of {OversizedOol} bytes exceeds the 1048576-byte window",
        "credit-overflow" => $"CREDIT of {uint.MaxValue} bytes / 1 messages beyond the announced window",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such kind of garbage"),
    };

    /// <summary>Far beyond the 1 MiB window.</summary>
    private const uint OversizedOol = 8 << 20;

    private static MachMsgReturn SendWithRight(uint target)
    {
        using MachReceiveRight port = MachReceiveRight.Allocate(Kernel);
        return MachTestMessages.Send(target, MachMsgTypeName.CopySend, MachProtocol.Data, DataPrefix(4, 8), attachments: [Attachment.Port(port.Name, MachMsgTypeName.MakeSend)]);
    }

    private static MachMsgReturn SendOversizedOol(uint target)
    {
        MachOolRegion region = MachOolRegion.Allocate(Kernel, OversizedOol);
        MachMsgReturn result = MachTestMessages.Send(target, MachMsgTypeName.CopySend, MachProtocol.Data, DataPrefix(OversizedOol, 4),
            attachments: [Attachment.Memory(region.Address, OversizedOol, deallocate: true)]);
        if (result == MachMsgReturn.Success)
        {
            region.Detach();
        }

        region.Dispose();
        return result;
    }

    private static byte[] DataPrefix(uint claimed, int actualBytes)
    {
        byte[] body = new byte[4 + actualBytes];
        MachProtocol.WriteU32(body, 0, claimed);
        return body;
    }
}
