namespace MachTransport.Channel;

/// <summary>What one side announces in CONNECT / ACCEPT: the window it grants the peer and the largest inline DATA it takes.</summary>
internal readonly record struct MachWindow(uint Bytes, uint Messages, uint MaxInline)
{
    public static MachWindow From(ChannelSettings settings) => new(settings.ByteWindow, (uint)settings.MessageWindow, (uint)MachProtocol.MaxInlinePayload);

    public bool IsValid => Bytes > 0 && Messages > 0 && MaxInline is > 0 and <= MachProtocol.MaxInlinePayload;
}
