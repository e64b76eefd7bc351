using System.Diagnostics;
using System.Globalization;

namespace MachTransport.TestHost;

/// <summary>
/// The inline/OOL threshold measurement (docs/protocol.md): against a host started with "--inline 1" (its replies
/// always OOL) or "--inline 65536" (always inline), echo payloads of several sizes over one HTTP/1.1 connection
/// on the ".h1" service with the client's threshold set the same way, and print microseconds per round trip.
/// </summary>
internal static class Measurement
{
    public static async Task<int> RunAsync(string service)
    {
        int[] sizes = [1024, 4096, 8192, 16384, 32768, 65000];
        foreach (int clientThreshold in new[] { 1, 65536 })
        {
            var options = new MachClientOptions { Limits = { InlineThreshold = clientThreshold } };
            await using Stream stream = await new MachConnectionFactory(options).ConnectStreamAsync(new MachEndPoint(service + ".h1"));
            foreach (int size in sizes)
            {
                byte[] request = System.Text.Encoding.ASCII.GetBytes(
                    $"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {size}\r\n\r\n").Concat(new byte[size]).ToArray();
                double micros = await EchoAsync(stream, request, size, rounds: 20) ; // warm-up
                micros = await EchoAsync(stream, request, size, rounds: 300);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"client-threshold={clientThreshold} size={size} us/roundtrip={micros:0.0}"));
            }
        }

        return 0;
    }

    private static async Task<double> EchoAsync(Stream stream, byte[] request, int size, int rounds)
    {
        byte[] buffer = new byte[256 * 1024];
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < rounds; i++)
        {
            await stream.WriteAsync(request);
            await stream.FlushAsync();
            int bodyStart = -1, total = 0;
            while (bodyStart < 0 || total - bodyStart < size)
            {
                int read = await stream.ReadAsync(buffer.AsMemory(total));
                if (read == 0)
                {
                    throw new IOException("closed");
                }

                total += read;
                if (bodyStart < 0)
                {
                    int end = buffer.AsSpan(0, total).IndexOf("\r\n\r\n"u8);
                    bodyStart = end < 0 ? -1 : end + 4;
                }
            }
        }

        return watch.Elapsed.TotalMicroseconds / rounds;
    }
}
