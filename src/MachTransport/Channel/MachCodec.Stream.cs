using System.Buffers;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;

namespace MachTransport.Channel;

/// <summary>The stream half of the codec: DATA, CREDIT, FIN and ABORT, built and validated (layouts in docs/protocol.md).</summary>
internal static partial class MachCodec
{
    /// <summary>Room for a DATA message without inline payload: header, body count, one OOL descriptor, length, padding.</summary>
    public const int OutOfLineDataCapacity = 24 + 4 + 16 + MachProtocol.DataPrefixSize + 4;

    /// <summary>Room for the largest DATA message with inline payloads up to <paramref name="inlineLimit"/> bytes.</summary>
    public static int DataMessageCapacity(int inlineLimit) => OutOfLineDataCapacity + inlineLimit;

    public static int WriteInlineData(Span<byte> buffer, uint peer, in ReadOnlySequence<byte> payload)
    {
        var writer = new MachMessageWriter(buffer, MachProtocol.Data, peer, MachMsgTypeName.CopySend);
        writer.WriteInline((uint)payload.Length);
        payload.CopyTo(writer.AppendInline((int)payload.Length));
        return writer.Complete();
    }

    /// <summary>DATA whose payload is copied (not moved) from <paramref name="address"/> by the kernel during the send.</summary>
    public static int WriteOutOfLineData(Span<byte> buffer, uint peer, ulong address, uint length)
    {
        var writer = new MachMessageWriter(buffer, MachProtocol.Data, peer, MachMsgTypeName.CopySend, descriptorCount: 1);
        writer.AddOutOfLine(address, length, deallocate: false, MachMsgCopyOptions.VirtualCopy);
        writer.WriteInline(length);
        return writer.Complete();
    }

    public static int WriteCredit(Span<byte> buffer, uint peer, uint bytes, uint messages)
    {
        var writer = new MachMessageWriter(buffer, MachProtocol.Credit, peer, MachMsgTypeName.CopySend);
        writer.WriteInline(bytes);
        writer.WriteInline(messages);
        return writer.Complete();
    }

    public static int WriteFin(Span<byte> buffer, uint peer)
        => new MachMessageWriter(buffer, MachProtocol.Fin, peer, MachMsgTypeName.CopySend).Complete();

    public static int WriteAbort(Span<byte> buffer, uint peer, MachCloseReason reason)
    {
        var writer = new MachMessageWriter(buffer, MachProtocol.Abort, peer, MachMsgTypeName.CopySend);
        writer.WriteInline((uint)reason);
        return writer.Complete();
    }

    /// <summary>Why the peer sent ABORT, as it claims (any value: it is only described, never acted on).</summary>
    public static MachCloseReason ReadAbortReason(in MachMessageReader message)
        => message.Body.Length >= 4 ? (MachCloseReason)MachProtocol.ReadU32(message.Body, 0) : MachCloseReason.None;

    /// <summary>A message with no descriptors and no reply right, as FIN, ABORT and CREDIT must be.</summary>
    public static bool IsBare(in MachMessageReader message)
        => !message.Header.IsComplex && message.Header.RemoteDisposition == MachMsgTypeName.None;

    /// <summary>
    /// Checks a DATA message: a length, then the payload inline (at most the protocol's inline maximum, padding at
    /// most 3 bytes) or in exactly one out-of-line region of exactly that length, never beyond the whole
    /// <paramref name="byteWindow"/>. Returns the reason it is malformed, or null.
    /// </summary>
    public static string? ParseData(in MachMessageReader message, uint byteWindow, out MachDataPayload payload)
    {
        payload = default;
        ReadOnlySpan<byte> body = message.Body;
        if (message.Header.RemoteDisposition != MachMsgTypeName.None || body.Length < MachProtocol.DataPrefixSize)
        {
            return "DATA with a reply right or without a length";
        }

        uint length = MachProtocol.ReadU32(body, 0);
        if (message.Header.IsComplex)
        {
            MachDescriptor ool = default;
            foreach (MachDescriptor descriptor in message.Descriptors)
            {
                ool = descriptor;
            }

            if (message.DescriptorCount != 1 || ool.Type != MachMsgDescriptorType.Ool || ool.Size != length || length == 0 || ool.Address == 0)
            {
                return $"out-of-line DATA of {length} bytes with {message.DescriptorCount} descriptors (type {ool.Type}, size {ool.Size})";
            }

            // Checked before the region is read (a large one is only mapped so far): a claim beyond the whole window can never be within credit.
            if (length > byteWindow)
            {
                return $"out-of-line DATA of {length} bytes exceeds the {byteWindow}-byte window";
            }

            payload = new MachDataPayload(default, ool.Address, length);
            return null;
        }

        int available = body.Length - MachProtocol.DataPrefixSize;
        if (length == 0 || length > MachProtocol.MaxInlinePayload || length > available || available - length > 3)
        {
            return $"inline DATA claiming {length} bytes in a {body.Length}-byte body";
        }

        payload = new MachDataPayload(body.Slice(MachProtocol.DataPrefixSize, (int)length), 0, length);
        return null;
    }

    public static bool TryParseCredit(in MachMessageReader message, out uint bytes, out uint messages)
    {
        bytes = messages = 0;
        if (!IsBare(message) || message.Body.Length < MachProtocol.CreditBodySize)
        {
            return false;
        }

        bytes = MachProtocol.ReadU32(message.Body, 0);
        messages = MachProtocol.ReadU32(message.Body, 1);
        return true;
    }
}
