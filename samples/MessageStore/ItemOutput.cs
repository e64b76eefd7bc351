using System.Text;

namespace MessageStore;

/// <summary>
/// How a retrieved item reaches the user: short text is printed, anything else (binary, long, or when a file is asked
/// for) is written to a file (by <see cref="ItemSink"/>), whole or not at all, and the output says where.
/// </summary>
internal static class ItemOutput
{
    /// <summary>Items longer than this are written to a file even when they are text: a terminal is no place for them.</summary>
    public const int MaxPrintedBytes = 4096;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The item as printable text (valid UTF-8, at most <see cref="MaxPrintedBytes"/>, no control characters but tab and line ends), or null.</summary>
    public static string? AsText(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxPrintedBytes)
        {
            return null;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(data);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        foreach (char c in text)
        {
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
            {
                return null;
            }
        }

        return text;
    }

    /// <summary>Where an item goes when no file was named: <c>item-ID</c> in the current folder.</summary>
    public static string DefaultFile(string id) => Path.GetFullPath($"item-{id}");

    /// <summary>The text, as printed after the verdict: inline when it is one line, else indented lines below.</summary>
    public static string Printed(string text)
    {
        string[] lines = text.ReplaceLineEndings("\n").Split('\n');
        return lines.Length == 1
            ? $"text: {text}"
            : $"text ({lines.Length} lines):\n" + string.Join('\n', lines.Select(line => "  " + line));
    }
}
