namespace MachTransport.Infrastructure;

/// <summary>Checks shared by option setters that are not connection limits, so bad input fails where it is set.</summary>
internal static class OptionGuard
{
    public static int Positive(int value, string what) => value >= 1
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"{what} must be at least 1.");

    public static TimeSpan Timeout(TimeSpan value, string what) => value > TimeSpan.Zero || value == System.Threading.Timeout.InfiniteTimeSpan
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, $"{what} must be positive or infinite.");
}
