namespace MachTransport.Channel;

/// <summary>What one side announces in CONNECT / ACCEPT: the window it grants the peer and the largest inline DATA it takes.</summary>
internal readonly record struct MachWindow(uint Bytes, uint Messages, uint MaxInline)
{
    public static MachWindow From(ChannelSettings settings) => new(settings.ByteWindow, (uint)settings.MessageWindow, (uint)MachProtocol.MaxInlinePayload);

    /// <summary>Within the protocol's bounds (docs/protocol.md, "Data, flow control, close"); a handshake announcing more is refused.</summary>
    public bool IsValid => Bytes is > 0 and <= MachProtocol.MaxByteWindow
        && Messages is > 0 and <= MachProtocol.MaxMessageWindow
        && MaxInline is >= MachProtocol.MinInlinePayload and <= MachProtocol.MaxInlinePayload;

    /// <summary>This window, no larger than <paramref name="limit"/> in bytes or messages.</summary>
    public MachWindow Within(MachWindow limit) => new(Math.Min(Bytes, limit.Bytes), Math.Min(Messages, limit.Messages), MaxInline);

    public override string ToString()
        => $"{Bytes} bytes, {Messages} messages, {MaxInline} bytes inline (the protocol allows 1..{MachProtocol.MaxByteWindow} bytes, "
            + $"1..{MachProtocol.MaxMessageWindow} messages, {MachProtocol.MinInlinePayload}..{MachProtocol.MaxInlinePayload} bytes inline)";
}
