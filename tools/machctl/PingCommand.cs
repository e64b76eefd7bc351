// "machctl ping": times handshakes with a Mach service (look-up, CONNECT, ACCEPT), checks that the service answers, and prints the server's kernel-verified pid.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace MachTransport.Tools;

internal static class PingCommand
{
    /// <summary>The HTTP/2 client connection preface and an empty SETTINGS frame (RFC 9113 §3.4): every HTTP/2 server answers with its SETTINGS.</summary>
    private static readonly byte[] s_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0"u8.ToArray();

    public static Command Create()
    {
        var service = new Argument<string>("NAME") { Description = "The Mach service to ping." };
        var count = new Option<int>("--count", "-c") { Description = "Handshakes to make (0: until Ctrl+C).", DefaultValueFactory = _ => 4, HelpName = "COUNT" };
        Option<double> interval = ToolContext.SecondsOption("--interval", "Seconds between handshakes.", 1, "-i");
        Option<double> timeout = ToolContext.SecondsOption("--timeout", "Seconds to wait for each answer.", 5, "-W");
        var command = new Command(
            "ping",
            "Time handshakes with a Mach service (look-up, CONNECT, ACCEPT) and print the pid and uid of the accepting "
            + "process as the kernel reported them, then a summary like ping's. A handshake counts once the service also "
            + "answers the HTTP/2 connection preface, as a client needs it to: 'machctl expose' accepts a connection and "
            + "then resets it when its target is unreachable, and ping says so. The time is the handshake's alone, and a "
            + "first handshake that is not counted loads the client's code first. Exits 0 only when every handshake was "
            + "answered.")
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
        if (ToolContext.RejectServiceName(serviceName))
        {
            return ToolContext.Failure;
        }

        var factory = new MachConnectionFactory(new MachClientOptions { ConnectTimeout = timeout });
        var endPoint = new MachEndPoint(serviceName);
        using ShutdownSignal shutdown = new();
        await WarmUpAsync(factory, endPoint, shutdown.Token);
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
                await using var connection = new MachEnd(await factory.ConnectAsync(endPoint, shutdown.Token));
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                string accepted = $"accepted by pid {connection.PeerPid} (uid {connection.PeerUid})";
                if (await AnswerAsync(connection, timeout, shutdown.Token) is string silence)
                {
                    Console.WriteLine($"seq={sent}: {accepted}, then {silence}");
                    continue;
                }

                times.Add(ms);
                Console.WriteLine(Invariant($"{accepted}: seq={sent} time={ms:0.000} ms"));
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

    /// <summary>One handshake, neither timed nor counted: the first one in a process loads and compiles the client's code (300-400 ms here).</summary>
    private static async Task WarmUpAsync(MachConnectionFactory factory, MachEndPoint endPoint, CancellationToken cancellationToken)
    {
        try
        {
            await (await factory.ConnectAsync(endPoint, cancellationToken)).DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The counted handshakes report it.
        }
    }

    /// <summary>Null once the service answers the HTTP/2 preface; otherwise what it did instead.</summary>
    private static async Task<string?> AnswerAsync(MachEnd connection, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await connection.Pipe.Output.WriteAsync(s_preface, deadline.Token);
            System.IO.Pipelines.ReadResult read = await connection.Pipe.Input.ReadAsync(deadline.Token);
            bool answered = !read.Buffer.IsEmpty;
            connection.Pipe.Input.AdvanceTo(read.Buffer.End);
            return answered ? null : "closed without answering";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Invariant($"no answer within {timeout.TotalSeconds:0.###} s");
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            return $"reset: {ex.Message}"; // an abort arrives as the reader's or the writer's exception, whichever met it
        }
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
        Console.WriteLine(Invariant($"{sent} handshakes, {times.Count} answered, {(sent == 0 ? 0 : 100.0 * failed / sent):0.#}% failed, time {elapsed.TotalMilliseconds:0}ms"));
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
