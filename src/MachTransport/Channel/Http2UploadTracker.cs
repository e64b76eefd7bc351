using System.Buffers;

namespace MachTransport.Channel;

/// <summary>
/// Follows the HTTP/2 framing of what an HTTP/2 client writes (RFC 9113 §3.4 preface, §4.1 frame header), to tell
/// the send loop when the bytes it has end in a full-size DATA frame without END_STREAM: more of that request body is
/// surely coming, so it may gather before it sends (out of line, once past the inline limit). SocketsHttpHandler
/// writes each 16 KiB DATA frame of an upload and flushes it as it is made, so without this a large upload travels
/// as one inline message per frame. A stream that does not begin with the client preface (a server's, a raw
/// channel's) is never followed: it is sent as it comes. Only frame headers are read; payloads are skipped.
/// </summary>
internal sealed class Http2UploadTracker
{
    /// <summary>The smallest maximum frame size a peer may announce (RFC 9113 §6.5.2), what SocketsHttpHandler sends.</summary>
    public const int FullFrameSize = 16_384;

    private const int FrameHeaderSize = 9;
    private const byte DataType = 0x0;
    private const byte EndStreamFlag = 0x1;

    /// <summary>Bytes of the preface matched so far; -1 once the stream proved not to be an HTTP/2 client's.</summary>
    private int _prefaceSeen;

    private int _headerSeen;
    private int _length;
    private byte _type;
    private byte _flags;
    private int _payloadLeft;

    /// <summary>The last complete frame was a full-size DATA frame without END_STREAM, and nothing has followed it yet.</summary>
    private bool _openFullData;

    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>The stream is not an HTTP/2 client's: nothing more to follow.</summary>
    public bool IsOff => _prefaceSeen < 0;

    /// <summary>
    /// Follows <paramref name="bytes"/>, the application's bytes after those already followed; true if everything so
    /// far ends exactly after a full-size DATA frame without END_STREAM.
    /// </summary>
    public bool EndsInOpenFullDataFrame(in ReadOnlySequence<byte> bytes)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            if (!Follow(segment.Span))
            {
                return false;
            }
        }

        return _prefaceSeen == Preface.Length && _headerSeen == 0 && _payloadLeft == 0 && _openFullData;
    }

    private bool Follow(ReadOnlySpan<byte> span)
    {
        while (!span.IsEmpty)
        {
            if (_prefaceSeen < Preface.Length)
            {
                if (_prefaceSeen < 0)
                {
                    return false;
                }

                int count = Math.Min(span.Length, Preface.Length - _prefaceSeen);
                if (!span[..count].SequenceEqual(Preface.Slice(_prefaceSeen, count)))
                {
                    _prefaceSeen = -1;
                    return false;
                }

                _prefaceSeen += count;
                span = span[count..];
            }
            else if (_payloadLeft > 0)
            {
                int count = Math.Min(span.Length, _payloadLeft);
                _payloadLeft -= count;
                span = span[count..];
                if (_payloadLeft == 0)
                {
                    EndFrame();
                }
            }
            else
            {
                FollowHeaderByte(span[0]);
                span = span[1..];
            }
        }

        return true;
    }

    private void FollowHeaderByte(byte value)
    {
        switch (_headerSeen++)
        {
            case 0:
                _openFullData = false;
                _length = value << 16;
                break;
            case 1:
                _length |= value << 8;
                break;
            case 2:
                _length |= value;
                break;
            case 3:
                _type = value;
                break;
            case 4:
                _flags = value;
                break;
            case FrameHeaderSize - 1:
                _headerSeen = 0;
                _payloadLeft = _length;
                if (_length == 0)
                {
                    EndFrame();
                }

                break;
            default:
                break; // the stream identifier
        }
    }

    private void EndFrame() => _openFullData = _type == DataType && (_flags & EndStreamFlag) == 0 && _length >= FullFrameSize;
}
