using System.Buffers;
using System.Text.Unicode;

namespace MachTransport.Mach.Abi;

/// <summary>
/// A bootstrap service name as launchd takes it: <c>name_t</c> = <c>char[128]</c>
/// (<c>BOOTSTRAP_MAX_NAME_LEN</c>), at most 127 bytes and a NUL (launchd liblaunch/bootstrap.h;
/// docs/mach-abi.md §9).
/// </summary>
internal static class BootstrapName
{
    /// <summary><c>BOOTSTRAP_MAX_NAME_LEN</c>: bytes of a <c>name_t</c>, NUL included.</summary>
    public const int BufferSize = 128;

    /// <summary>Longest name in UTF-8 bytes, without the NUL.</summary>
    public const int MaxByteLength = BufferSize - 1;

    /// <summary>
    /// The status for a name that is not a valid <c>name_t</c>. MIG would truncate a long name silently
    /// (two names that differ after byte 127 would collide), so backends refuse it instead, with
    /// <c>KERN_INVALID_ARGUMENT</c>: bootstrap calls return a <c>kern_return_t</c>, so any kernel code may appear there.
    /// </summary>
    public const BootstrapStatus InvalidName = (BootstrapStatus)KernReturn.InvalidArgument;

    /// <summary>
    /// Writes <paramref name="serviceName"/> as a zero-filled, NUL-terminated <c>name_t</c> into the first
    /// <see cref="BufferSize"/> bytes of <paramref name="destination"/>. Fails for an empty name, an embedded NUL,
    /// invalid UTF-16, or more than <see cref="MaxByteLength"/> UTF-8 bytes.
    /// </summary>
    public static bool TryEncode(ReadOnlySpan<char> serviceName, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, BufferSize, nameof(destination));
        Span<byte> nameT = destination[..BufferSize];
        nameT.Clear();
        if (serviceName.IsEmpty || serviceName.Contains('\0'))
        {
            return false;
        }

        OperationStatus status = Utf8.FromUtf16(serviceName, nameT[..MaxByteLength], out _, out _, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            nameT.Clear();
            return false;
        }

        return true;
    }
}
