using System.Globalization;

namespace MessageStore;

/// <summary>
/// How much the server keeps: caps per queue and in total (queued and leased items alike), how long a retrieved item
/// waits for its confirmation, and how long a store may go without sending bytes before it is given up (its space in
/// the caps is taken from its first message: a client that stops sending would otherwise hold it for hours, as
/// Kestrel's minimum data rate is an average over the whole body).
/// </summary>
internal sealed record StoreLimits(long MaxQueueBytes, long MaxTotalBytes, int MaxQueueItems, TimeSpan LeaseTime, TimeSpan StoreIdleTime)
{
    private const long MiB = 1024 * 1024;

    /// <summary>256 MiB and 10,000 items per queue, 1 GiB in all, 60 s to confirm, 30 s without bytes in a store: a few large items per queue, a store that fits in a small machine's disk and memory.</summary>
    public static StoreLimits Default { get; } = new(256 * MiB, 1024 * MiB, 10_000, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30));

    /// <summary>The server's options: --max-queue-mib, --max-total-mib, --max-queue-items, --lease-seconds, --store-idle-seconds; null (said on stderr) when one is not a positive number.</summary>
    public static StoreLimits? FromOptions(Func<string, string?> option)
    {
        long? queueMiB = Positive(option, "--max-queue-mib", Default.MaxQueueBytes / MiB);
        long? totalMiB = Positive(option, "--max-total-mib", Default.MaxTotalBytes / MiB);
        long? items = Positive(option, "--max-queue-items", Default.MaxQueueItems);
        long? lease = Positive(option, "--lease-seconds", (long)Default.LeaseTime.TotalSeconds);
        long? idle = Positive(option, "--store-idle-seconds", (long)Default.StoreIdleTime.TotalSeconds);
        return queueMiB is null || totalMiB is null || items is null || lease is null || idle is null || items > int.MaxValue
            ? null
            : new StoreLimits(queueMiB.Value * MiB, totalMiB.Value * MiB, (int)items.Value, TimeSpan.FromSeconds(lease.Value), TimeSpan.FromSeconds(idle.Value));
    }

    private static long? Positive(Func<string, string?> option, string name, long fallback)
    {
        if (option(name) is not string text)
        {
            return fallback;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value is > 0 and <= int.MaxValue)
        {
            return value;
        }

        Console.Error.WriteLine($"{name} takes a positive whole number");
        return null;
    }
}
