using MachTransport.Mach.Abi;

namespace MachTransport;

/// <summary>
/// A Mach call failed; <see cref="Code"/> is the raw <c>kern_return_t</c>, <c>mach_msg_return_t</c> or bootstrap status.
/// An <see cref="IOException"/>, as a socket's failure would be: <c>HttpClient</c> callers see it inside an
/// <c>HttpRequestException</c>, and gRPC reports a connect failure as <c>Unavailable</c>.
/// </summary>
public sealed class MachException : IOException
{
    /// <summary>Creates an exception for a failed Mach call.</summary>
    public MachException(string message, int code)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates an exception without a code.</summary>
    public MachException() : this("A Mach call failed.", 0) { }

    /// <summary>Creates an exception without a code.</summary>
    public MachException(string message) : this(message, 0) { }

    /// <summary>Creates an exception wrapping another.</summary>
    public MachException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The raw Mach status code.</summary>
    public int Code { get; }

    internal static void ThrowIfFailed(KernReturn result, string operation)
    {
        if (result != KernReturn.Success)
        {
            throw new MachException($"{operation} failed: {Describe(result)}.", (int)result);
        }
    }

    internal static void ThrowIfFailed(MachMsgReturn result, string operation)
    {
        if (result != MachMsgReturn.Success)
        {
            throw new MachException($"{operation} failed: {Describe(result)}.", (int)result);
        }
    }

    internal static string Describe(KernReturn result) => $"KERN_{ToConstantName(result.ToString())} (0x{(int)result:x})";

    internal static string Describe(MachMsgReturn result)
    {
        string name = result.ToString();
        string prefix = name.StartsWith("Send", StringComparison.Ordinal) ? "MACH_SEND_" : name.StartsWith("Receive", StringComparison.Ordinal) ? "MACH_RCV_" : "MACH_MSG_";
        string rest = name.StartsWith("Send", StringComparison.Ordinal) ? name[4..] : name.StartsWith("Receive", StringComparison.Ordinal) ? name[7..] : name;
        return $"{prefix}{ToConstantName(rest)} (0x{(int)result:x8})";
    }

    // "InvalidDest" -> "INVALID_DEST"; numbers (unknown values) pass through.
    private static string ToConstantName(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]))
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(pascal[i]));
        }

        return builder.ToString();
    }
}
