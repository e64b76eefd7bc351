using System.Globalization;

namespace MessageStore;

/// <summary>
/// A test-only stop inside a store: with <see cref="Variable"/> set to N, the server stops after writing chunk N of any
/// item that has more chunks to come, says so on stdout, and waits there (until its client goes away), so that a test
/// can SIGKILL it with part of an item written to the database and the rest not. Unset (as for every user), it costs
/// one comparison per chunk.
/// </summary>
internal sealed class ChunkWriteHook
{
    /// <summary>The environment variable: the number of chunks after which to stop.</summary>
    public const string Variable = "MESSAGESTORE_TEST_STOP_AFTER_CHUNKS";

    private readonly int _stopAfter;

    private ChunkWriteHook(int stopAfter) => _stopAfter = stopAfter;

    /// <summary>What the environment asks for: no stop unless <see cref="Variable"/> holds a positive number.</summary>
    public static ChunkWriteHook FromEnvironment() =>
        new(int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out int chunks) ? chunks : 0);

    /// <summary>Called after chunk number <paramref name="written"/> (counted from 1) of an item with more to come.</summary>
    public async ValueTask BetweenChunksAsync(int written, int length, string queue, CancellationToken cancellationToken)
    {
        if (written != _stopAfter)
        {
            return;
        }

        Console.WriteLine($"STOPPED after chunk {written} of an item of {length} bytes for queue '{queue}'");
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
