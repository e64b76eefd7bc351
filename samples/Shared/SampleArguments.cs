// Shared by the samples (linked into each project): their command lines are a mode, "--name value" options and
// plain arguments, in any order.
namespace MachTransport.Samples;

/// <summary>A sample's command line: the mode (the first word; "demo" when there is none), options, the rest.</summary>
internal sealed class SampleArguments
{
    private readonly Dictionary<string, string> _options;

    private SampleArguments(string mode, Dictionary<string, string> options, List<string> values)
    {
        Mode = mode;
        _options = options;
        Values = values;
    }

    public string Mode { get; }

    /// <summary>The arguments that are neither the mode nor an option.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>The command line, or null (after saying why on stderr) when it names an option not in <paramref name="optionNames"/> or lacks a value.</summary>
    public static SampleArguments? Parse(string[] args, params string[] optionNames)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var values = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                values.Add(args[i]);
            }
            else if (!optionNames.Contains(args[i]) || i + 1 == args.Length)
            {
                Console.Error.WriteLine($"unknown option or missing value: {args[i]}");
                return null;
            }
            else
            {
                options[args[i]] = args[++i];
            }
        }

        string mode = values.Count > 0 ? values[0] : "demo";
        return new SampleArguments(mode, options, values.Count > 0 ? values[1..] : values);
    }

    public string Option(string name, string fallback) => _options.GetValueOrDefault(name, fallback);

    public string? OptionOrNull(string name) => _options.GetValueOrDefault(name);

    /// <summary>
    /// The service a server mode names: "serve NAME" or "--service NAME" (both only if they agree), else
    /// <paramref name="fallback"/>; null (after saying why on stderr) when they disagree or more words follow the mode.
    /// </summary>
    public string? ServiceOfServer(string fallback)
    {
        if (Values.Count > 1)
        {
            Console.Error.WriteLine($"{Mode} takes at most one service name; also given: {string.Join(' ', Values.Skip(1))}");
            return null;
        }

        string? named = Values.Count == 1 ? Values[0] : null;
        string? option = _options.GetValueOrDefault("--service");
        if (named is not null && option is not null && named != option)
        {
            Console.Error.WriteLine($"two service names given: {named} and --service {option}");
            return null;
        }

        return named ?? option ?? fallback;
    }
}
