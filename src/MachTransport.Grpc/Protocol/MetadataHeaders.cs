namespace MachTransport.Grpc.Protocol;

/// <summary>Converts between <see cref="Metadata"/> and HTTP header fields (binary values as base64).</summary>
internal static class MetadataHeaders
{
    public static string ToHeaderValue(Metadata.Entry entry) => entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;

    /// <summary>Adds one received header field to <paramref name="metadata"/>, unless the runtime owns it.</summary>
    public static void AddReceived(Metadata metadata, string name, string value)
    {
        if (GrpcProtocol.IsReservedHeader(name))
        {
            return;
        }

        if (name.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase))
        {
            metadata.Add(name, DecodeBase64(value));
        }
        else
        {
            metadata.Add(name, value);
        }
    }

    /// <summary>Base64 with or without padding, as peers send either.</summary>
    private static byte[] DecodeBase64(string value)
    {
        int padding = (4 - (value.Length % 4)) % 4;
        return Convert.FromBase64String(padding == 0 ? value : value + new string('=', padding));
    }
}
