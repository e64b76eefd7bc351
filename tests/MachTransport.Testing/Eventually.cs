using Xunit;

namespace MachTransport.Testing;

/// <summary>
/// A bounded wait for a state that nothing announces and only looking again shows (how many descriptors a process holds,
/// what it logged): it looks every 20 ms and, past the bound, fails with what it saw last.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    /// <summary>Returns once <paramref name="condition"/> holds; fails after <paramref name="bound"/> with <paramref name="lastSeen"/>.</summary>
    public static async Task HoldsAsync(Func<bool> condition, TimeSpan bound, Func<string> lastSeen)
    {
        long deadline = Environment.TickCount64 + (long)bound.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 >= deadline)
            {
                Assert.Fail($"Still after {bound.TotalSeconds:0.#} s: {lastSeen()}");
            }

            await Task.Delay(Interval);
        }
    }
}
