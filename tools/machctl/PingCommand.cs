// "machctl ping": times handshakes with a Mach service (look-up, CONNECT, ACCEPT) and prints the server's kernel-verified pid.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MachTransport.Client;

namespace MachTransport.Tools;

internal static class PingCommand
{
    public static Command Create()
    {
        var service = new Argument<string>("NAME") { Description = "The Mach service to ping." };
        var count = new Option<int>("--count", "-c") { Description = "Handshakes to make (0: until Ctrl+C).", DefaultValueFactory = _ => 4, HelpName = "COUNT" };
        Option<double> interval = ToolContext.SecondsOption("--interval", "Seconds between handshakes.", 1, "-i");
        Option<double> timeout = ToolContext.SecondsOption("--timeout", "Seconds to wait for each answer.", 5, "-W");
        var command = new Command(
            "ping",
            "Time handshakes with a Mach service (look-up, CONNECT, ACCEPT; then close) and print the pid and uid of the "
            + "accepting process as the kernel reported them, then a summary like ping's. Exits 0 only when every "
            + "handshake was accepted.")
        {
            service,
            count,
            interval,
            timeout,
        };
        command.SetAction((result, _) => RunAsync(
            result.GetRequiredValue(service),
            result.GetValue(count),
            TimeSpan.FromSeconds(result.GetValue(interval)),
            TimeSpan.FromSeconds(result.GetValue(timeout))));
        return command;
    }

    private static async Task<int> RunAsync(string serviceName, int count, TimeSpan interval, TimeSpan timeout)
    {
        MachConnectionFactory factory;
        try
        {
            factory = new MachConnectionFactory(serviceName, new MachClientOptions { ConnectTimeout = timeout });
        }
        catch (ArgumentException ex)
        {
            return ToolContext.Fail(ex.Message);
        }

        using ShutdownSignal shutdown = new();
        var times = new List<double>();
        int sent = 0;
        var elapsed = Stopwatch.StartNew();
        Console.WriteLine($"PING mach:{serviceName}");
        while ((count <= 0 || sent < count) && !shutdown.Token.IsCancellationRequested)
        {
            if (sent > 0 && !await DelayAsync(interval, shutdown.Token))
            {
                break;
            }

            sent++;
            long start = Stopwatch.GetTimestamp();
            try
            {
                await using MachEnd connection = MachEnd.FromClientStream(await factory.ConnectAsync(shutdown.Token));
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                times.Add(ms);
                Console.WriteLine(Invariant($"accepted by pid {connection.PeerPid} (uid {connection.PeerUid}): seq={sent} time={ms:0.000} ms"));
            }
            catch (OperationCanceledException) when (shutdown.Token.IsCancellationRequested)
            {
                sent--;
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Console.WriteLine($"seq={sent}: {ex.Message}");
            }
        }

        PrintSummary(serviceName, sent, times, elapsed.Elapsed);
        return sent > 0 && times.Count == sent ? ToolContext.Success : ToolContext.Failure;
    }

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static void PrintSummary(string serviceName, int sent, List<double> times, TimeSpan elapsed)
    {
        int failed = sent - times.Count;
        Console.WriteLine($"--- mach:{serviceName} ping statistics ---");
        Console.WriteLine(Invariant($"{sent} handshakes, {times.Count} accepted, {(sent == 0 ? 0 : 100.0 * failed / sent):0.#}% failed, time {elapsed.TotalMilliseconds:0}ms"));
        if (times.Count > 0)
        {
            double mean = times.Average();
            // ping's mdev: the standard deviation of the round trips.
            double mdev = Math.Sqrt(Math.Max(0, times.Average(t => t * t) - mean * mean));
            Console.WriteLine(Invariant($"rtt min/avg/max/mdev = {times.Min():0.000}/{mean:0.000}/{times.Max():0.000}/{mdev:0.000} ms"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
