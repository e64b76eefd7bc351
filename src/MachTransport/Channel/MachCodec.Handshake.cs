using System.Text;
using System.Text.Unicode;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;

namespace MachTransport.Channel;

/// <summary>The handshake half of the codec: CONNECT, ACCEPT and REJECT, built and validated (layouts in docs/protocol.md).</summary>
internal static partial class MachCodec
{
    public static int WriteConnect(Span<byte> buffer, uint service, uint clientPort, MachWindow window)
    {
        var writer = new MachMessageWriter(buffer, MachProtocol.Connect, service, MachMsgTypeName.CopySend, descriptorCount: 1);
        writer.AddPort(clientPort, MachMsgTypeName.MakeSend);
        Span<byte> body = writer.AppendInline(MachProtocol.ConnectBodySize);
        MachProtocol.WriteU32(body, 0, MachProtocol.Version);
        MachProtocol.WriteU32(body, 1, MachProtocol.Version);
        WriteWindow(body[8..], window);
        return writer.Complete();
    }

    public static int WriteAccept(Span<byte> buffer, uint client, uint connectionPort, MachWindow window)
    {
        var writer = new MachMessageWriter(buffer, MachProtocol.Accept, client, MachMsgTypeName.CopySend, descriptorCount: 1);
        writer.AddPort(connectionPort, MachMsgTypeName.MakeSend);
        Span<byte> body = writer.AppendInline(MachProtocol.AcceptBodySize);
        MachProtocol.WriteU32(body, 0, MachProtocol.Version);
        WriteWindow(body[4..], window);
        return writer.Complete();
    }

    public static int WriteReject(Span<byte> buffer, uint client, MachCloseReason reason, string text)
    {
        var writer = new MachMessageWriter(buffer, MachProtocol.Reject, client, MachMsgTypeName.CopySend);
        // A longer text is cut after its last whole character that fits (a character can take up to 4 bytes).
        Span<byte> utf8 = stackalloc byte[MachProtocol.MaxRejectText];
        _ = Utf8.FromUtf16(text, utf8, out _, out int length);
        writer.WriteInline((uint)reason);
        writer.WriteInline((uint)length);
        utf8[..length].CopyTo(writer.AppendInline(length));
        return writer.Complete();
    }

    /// <summary>
    /// Checks a CONNECT: exactly one port descriptor carrying a send right, no reply right, a full body and a
    /// version range containing ours. On success <paramref name="clientPort"/> is the send right (now ours).
    /// </summary>
    public static bool TryParseConnect(in MachMessageReader message, out uint clientPort, out MachWindow window, out MachCloseReason reason, out string? error)
    {
        clientPort = 0;
        window = default;
        reason = MachCloseReason.ProtocolError;
        if (!TryGetSinglePort(message, out clientPort, out error))
        {
            return false;
        }

        ReadOnlySpan<byte> body = message.Body;
        if (body.Length < MachProtocol.ConnectBodySize)
        {
            error = $"CONNECT body of {body.Length} bytes";
            return false;
        }

        uint min = MachProtocol.ReadU32(body, 0), max = MachProtocol.ReadU32(body, 1);
        window = ReadWindow(body[8..]);
        if (min > MachProtocol.Version || max < MachProtocol.Version)
        {
            reason = MachCloseReason.VersionMismatch;
            error = $"client speaks versions {min}..{max}, this server {MachProtocol.Version}";
            return false;
        }

        if (!window.IsValid)
        {
            error = $"a window beyond the protocol's bounds: {window}";
            return false;
        }

        return true;
    }

    public static bool TryParseAccept(in MachMessageReader message, out uint connectionPort, out MachWindow window, out string? error)
    {
        window = default;
        if (!TryGetSinglePort(message, out connectionPort, out error))
        {
            return false;
        }

        ReadOnlySpan<byte> body = message.Body;
        if (body.Length < MachProtocol.AcceptBodySize || MachProtocol.ReadU32(body, 0) != MachProtocol.Version)
        {
            error = "ACCEPT with a short body or another version";
            return false;
        }

        window = ReadWindow(body[4..]);
        if (!window.IsValid)
        {
            error = $"a window beyond the protocol's bounds: {window}";
            return false;
        }

        return true;
    }

    /// <summary>
    /// An ACCEPT whose connection port died before it was received (the server closed the connection at once): the
    /// send right arrives as MACH_PORT_DEAD.
    /// </summary>
    public static bool IsAcceptOfDeadPort(in MachMessageReader message)
    {
        if (message.DescriptorCount != 1)
        {
            return false;
        }

        foreach (MachDescriptor descriptor in message.Descriptors)
        {
            return descriptor.Type == MachMsgDescriptorType.Port && descriptor.Disposition == MachMsgTypeName.PortSend && descriptor.Name == Mach.Abi.MachPort.Dead;
        }

        return false;
    }

    public static bool TryParseReject(in MachMessageReader message, out MachCloseReason reason, out string text)
    {
        ReadOnlySpan<byte> body = message.Body;
        reason = MachCloseReason.None;
        text = string.Empty;
        if (message.Header.IsComplex || body.Length < 8)
        {
            return false;
        }

        reason = (MachCloseReason)MachProtocol.ReadU32(body, 0);
        int length = (int)Math.Min(MachProtocol.ReadU32(body, 1), (uint)Math.Min(body.Length - 8, MachProtocol.MaxRejectText));
        text = Encoding.UTF8.GetString(body.Slice(8, length));
        return true;
    }

    private static bool TryGetSinglePort(in MachMessageReader message, out uint port, out string? error)
    {
        port = 0;
        MachMsgHeader header = message.Header;
        if (header.RemoteDisposition != MachMsgTypeName.None || message.DescriptorCount != 1)
        {
            error = $"{message.DescriptorCount} descriptors, reply disposition {header.RemoteDisposition}";
            return false;
        }

        foreach (MachDescriptor descriptor in message.Descriptors)
        {
            if (descriptor.Type == MachMsgDescriptorType.Port && descriptor.Disposition == MachMsgTypeName.PortSend && Mach.Abi.MachPort.IsValid(descriptor.Name))
            {
                port = descriptor.Name;
                error = null;
                return true;
            }
        }

        error = "the descriptor is not a send right";
        return false;
    }

    private static void WriteWindow(Span<byte> body, MachWindow window)
    {
        MachProtocol.WriteU32(body, 0, window.Bytes);
        MachProtocol.WriteU32(body, 1, window.Messages);
        MachProtocol.WriteU32(body, 2, window.MaxInline);
    }

    private static MachWindow ReadWindow(ReadOnlySpan<byte> body)
        => new(MachProtocol.ReadU32(body, 0), MachProtocol.ReadU32(body, 1), MachProtocol.ReadU32(body, 2));
}
