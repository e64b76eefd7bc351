// A set of transport and HTTP/2 settings applied to both the server process and the clients, so a proposal can be
// measured against the defaults in the same run without changing the library.
using System.Globalization;

namespace MachTransport.Benchmarks;

/// <param name="Name">Suffix of the scenario names ("" for the defaults).</param>
/// <param name="Http2Window">HTTP/2 stream window for both sides (Kestrel's stream window, its connection window doubled, SocketsHttpHandler's InitialHttp2StreamWindowSize).</param>
/// <param name="InlineThreshold">Mach inline/out-of-line threshold of both sides.</param>
/// <param name="ReadWindow">Mach byte window (MaxReadBufferSize) of both sides.</param>
internal sealed record Variant(string Name, int? Http2Window = null, int? InlineThreshold = null, long? ReadWindow = null)
{
    public static Variant Default { get; } = new("");

    /// <summary>Every proposal at once.</summary>
    public static Variant Tuned { get; } = new("tuned", Http2Window: 16 << 20, InlineThreshold: 64 << 10, ReadWindow: 8 << 20);

    /// <summary>One proposal each, to tell which of them the tuned numbers owe to (full mode).</summary>
    public static IReadOnlyList<Variant> SingleFactors { get; } =
    [
        new("h2win", Http2Window: 16 << 20),
        new("inline64k", InlineThreshold: 64 << 10),
        new("window8m", ReadWindow: 8 << 20),
    ];

    public static Variant Named(string name)
        => SingleFactors.Append(Tuned).FirstOrDefault(v => v.Name == name) ?? throw new ArgumentException($"No variant named '{name}'.", nameof(name));

    public string Suffix => Name.Length == 0 ? "" : "-" + Name;

    public IEnumerable<string> ToArguments()
    {
        if (Http2Window is int window)
        {
            yield return "--h2-window";
            yield return window.ToString(CultureInfo.InvariantCulture);
        }

        if (InlineThreshold is int inline)
        {
            yield return "--inline";
            yield return inline.ToString(CultureInfo.InvariantCulture);
        }

        if (ReadWindow is long read)
        {
            yield return "--read-window";
            yield return read.ToString(CultureInfo.InvariantCulture);
        }
    }

    public static Variant Parse(IReadOnlyList<string> args)
    {
        Variant variant = Default;
        for (int i = 0; i + 1 < args.Count; i++)
        {
            variant = args[i] switch
            {
                "--h2-window" => variant with { Http2Window = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--inline" => variant with { InlineThreshold = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--read-window" => variant with { ReadWindow = long.Parse(args[++i], CultureInfo.InvariantCulture) },
                _ => variant,
            };
        }

        return variant;
    }
}
