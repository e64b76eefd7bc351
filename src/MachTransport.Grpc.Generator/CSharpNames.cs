using System.Text;
using Google.Protobuf.Reflection;

namespace MachTransport.Grpc.Generator;

/// <summary>
/// The C# names protoc's C# generator gives to proto files and messages (its csharp_helpers rules): the namespace
/// is csharp_namespace, or the package in PascalCase per dotted part; nested messages live in <c>Outer.Types</c>.
/// </summary>
internal sealed class CSharpNames
{
    private readonly Dictionary<string, string> _messageTypes = new(StringComparer.Ordinal);

    public CSharpNames(FileDescriptorSet set)
    {
        foreach (FileDescriptorProto file in set.File)
        {
            string prefix = string.IsNullOrEmpty(file.Package) ? "." : $".{file.Package}.";
            string ns = Namespace(file);
            foreach (DescriptorProto message in file.MessageType)
            {
                AddMessage(message, prefix, ns.Length == 0 ? "global::" : $"global::{ns}.");
            }
        }
    }

    /// <summary>The namespace of the C# code generated from <paramref name="file"/>.</summary>
    public static string Namespace(FileDescriptorProto file) =>
        file.Options?.HasCsharpNamespace == true ? file.Options.CsharpNamespace : UnderscoresToPascalCase(file.Package);

    /// <summary>The fully qualified C# type of a proto type name such as <c>.greet.HelloRequest</c>.</summary>
    public string MessageType(string protoTypeName) =>
        _messageTypes.TryGetValue(protoTypeName, out string? name)
            ? name
            : throw new InvalidOperationException($"Message type {protoTypeName} is not in the descriptor set (was protoc run with --include_imports?).");

    /// <summary>protoc's UnderscoresToCamelCase(input, cap_next_letter: true, preserve_period: true).</summary>
    private static string UnderscoresToPascalCase(string input)
    {
        var builder = new StringBuilder(input.Length);
        bool capitalizeNext = true;
        foreach (char c in input)
        {
            if (char.IsAsciiLetterLower(c))
            {
                builder.Append(capitalizeNext ? char.ToUpperInvariant(c) : c);
                capitalizeNext = false;
            }
            else if (char.IsAsciiLetterUpper(c))
            {
                builder.Append(c);
                capitalizeNext = false;
            }
            else if (char.IsAsciiDigit(c))
            {
                builder.Append(c);
                capitalizeNext = true;
            }
            else
            {
                capitalizeNext = true;
                if (c == '.')
                {
                    builder.Append('.');
                }
            }
        }

        return builder.ToString();
    }

    private void AddMessage(DescriptorProto message, string protoPrefix, string csharpPrefix)
    {
        string csharpName = csharpPrefix + message.Name;
        _messageTypes[protoPrefix + message.Name] = csharpName;
        foreach (DescriptorProto nested in message.NestedType)
        {
            AddMessage(nested, $"{protoPrefix}{message.Name}.", $"{csharpName}.Types.");
        }
    }
}
