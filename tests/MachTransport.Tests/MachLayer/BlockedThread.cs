// Proof that a thread is blocked in the kernel, not about to block: tests of what wakes a blocked receiver must
// not pass when the wake-up came before the receive started. Linux only: it reads /proc.
using System.Globalization;
using System.Runtime.InteropServices;

namespace MachTransport.Tests.MachLayer;

internal static class BlockedThread
{
    /// <summary>The calling thread's kernel id.</summary>
    public static int CurrentId() => int.Parse(File.ReadAllText("/proc/thread-self/stat").Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>Waits (bounded) until thread <paramref name="tid"/> of this process sleeps in poll/ppoll, where the emulation's receive waits.</summary>
    public static async Task WaitUntilInPollAsync(int tid, TimeSpan timeout)
    {
        int[] polls = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => [7, 271], // poll, ppoll
            Architecture.Arm64 => [73], // ppoll (arm64 has no poll)
            _ => throw new PlatformNotSupportedException("syscall numbers of this architecture are not listed"),
        };

        using var deadline = new CancellationTokenSource(timeout);
        while (!IsSleepingIn(tid, polls))
        {
            await Task.Delay(1, deadline.Token);
        }
    }

    private static bool IsSleepingIn(int tid, int[] syscalls)
    {
        string task = $"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}";
        string stat = File.ReadAllText($"{task}/stat");
        char state = stat[(stat.LastIndexOf(')') + 2)..][0]; // the name in parentheses may contain spaces
        string syscall = File.ReadAllText($"{task}/syscall").Split(' ')[0];
        return state == 'S' && int.TryParse(syscall, CultureInfo.InvariantCulture, out int number) && syscalls.Contains(number);
    }
}
