using System.Text;

namespace MachTransport.Tests.Transport;

/// <summary>The bytes of an HTTP/2 client's first flight, written by hand so a test can send them on a raw channel and then misbehave.</summary>
internal static class Http2Bytes
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>
    /// The preface, SETTINGS and a GET of <paramref name="path"/> on each of <paramref name="streams"/> streams (HPACK:
    /// static table and literals). With
    /// <paramref name="openWindows"/> the stream and connection windows are the largest HTTP/2 allows, so only the
    /// transport's own flow control holds the server's response back.
    /// </summary>
    public static byte[] Get(string path, bool openWindows = false, int streams = 1) => Get([.. Enumerable.Repeat(path, streams)], openWindows);

    /// <summary>The same, with a GET of each of <paramref name="paths"/> on a stream of its own.</summary>
    public static byte[] Get(IReadOnlyList<string> paths, bool openWindows)
    {
        var bytes = new List<byte>(Preface);
        bytes.AddRange(Frame(0x4, 0x0, 0, openWindows ? [0x00, 0x04, 0x7f, 0xff, 0xff, 0xff] : [])); // SETTINGS (INITIAL_WINDOW_SIZE)
        if (openWindows)
        {
            bytes.AddRange(Frame(0x8, 0x0, 0, [0x7f, 0xff, 0x00, 0x00])); // WINDOW_UPDATE of the connection
        }

        for (int i = 0; i < paths.Count; i++)
        {
            var headers = new List<byte> { 0x82, 0x86 }; // :method GET, :scheme http
            AddLiteral(headers, 0x04, paths[i]); // :path
            AddLiteral(headers, 0x01, "localhost"); // :authority
            bytes.AddRange(Frame(0x1, 0x5, (2 * i) + 1, [.. headers])); // HEADERS, END_STREAM | END_HEADERS
        }

        return [.. bytes];
    }

    /// <summary>A DATA frame on a stream that was never opened: a connection error for the server.</summary>
    public static byte[] Garbage => Frame(0x0, 0x0, 77, [1, 2, 3]);

    private static void AddLiteral(List<byte> headers, byte nameIndex, string value)
    {
        headers.Add((byte)(0x00 | nameIndex)); // literal without indexing, indexed name
        byte[] text = Encoding.ASCII.GetBytes(value);
        headers.Add((byte)text.Length);
        headers.AddRange(text);
    }

    /// <summary>One HTTP/2 frame: the 9-byte header (RFC 9113 section 4.1), then <paramref name="payload"/>.</summary>
    public static byte[] Frame(byte type, byte flags, int stream, byte[] payload)
    {
        byte[] frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        frame[5] = (byte)(stream >> 24);
        frame[6] = (byte)(stream >> 16);
        frame[7] = (byte)(stream >> 8);
        frame[8] = (byte)stream;
        payload.CopyTo(frame, 9);
        return frame;
    }
}
