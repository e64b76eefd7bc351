using System.Runtime.CompilerServices;

namespace MachTransport.Grpc;

/// <summary>Adapts <see cref="IAsyncStreamReader{T}"/> to <c>await foreach</c>.</summary>
public static class AsyncStreamReaderExtensions
{
    /// <summary>Every remaining message of <paramref name="reader"/>.</summary>
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(this IAsyncStreamReader<T> reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (await reader.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }
}
