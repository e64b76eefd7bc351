using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MachTransport.Samples.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace MachTransport.Samples.Tests;

/// <summary>
/// Issue 20 item 3: large items are streamed through the server and the client, not held whole. Measured by the
/// kernel's high-water mark of each process's resident memory (VmHWM in /proc/PID/status), not by time. When the calls
/// were unary (each item in one message), this test measured the server at 65 MiB at start and 560 MiB after, the
/// client at 779 MiB; streamed in chunks of 1 MiB, 67 and 106 MiB, and 104 MiB.
/// </summary>
[Trait("Category", "Samples")]
public sealed class MessageStoreMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const string Sample = "MessageStore.dll";
    private const int ItemBytes = 64 * 1024 * 1024;
    private const int Items = 4;

    // Well above what streaming takes, well below what holding whole items in messages took (see above).
    private const long ServerBoundMiB = 200;
    private const long ClientBoundMiB = 160;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    private readonly string _data = Directory.CreateTempSubdirectory("messagestore-memory-").FullName;
    private readonly string _state = Directory.CreateTempSubdirectory("messagestore-memory-state-").FullName;

    public void Dispose()
    {
        Directory.Delete(_data, recursive: true);
        Directory.Delete(_state, recursive: true);
    }

    [ProcFact]
    public async Task FourItemsOf64MiBGoInAndOutWithoutTheServerOrTheClientHoldingOneWhole()
    {
        string file = Path.Combine(_state, "item.bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(ItemBytes));
        byte[] sha256 = SHA256.HashData(await File.ReadAllBytesAsync(file));
        string service = TestEnvironment.UniqueServiceName("messagestore-memory");
        await using SampleProcess server = await SampleProcess.StartServerAsync(Sample, "--service", service, "--data", _data);
        long serverAtStart = PeakMiB(server.Id);

        // One client process (the prompt) stores the four items and takes them back, one file at a time.
        await using SampleProcess client = SampleProcess.Start(Sample, "client", "--service", service, "--queue", "q", "--state", _state);
        await SendAsync(client, string.Concat(Enumerable.Repeat($"send @{file}\n", Items)));
        for (int i = 1; i <= Items; i++)
        {
            string retrieved = Path.Combine(_state, $"retrieved-{i}.bin");
            await SendAsync(client, $"retrieve {retrieved}\n");
            await client.WaitForOutputAsync(line => line == $"written to {retrieved}", Timeout);
            await using (FileStream written = File.OpenRead(retrieved))
            {
                Assert.Equal(sha256, await SHA256.HashDataAsync(written));
            }

            File.Delete(retrieved);
        }

        long serverPeak = PeakMiB(server.Id);
        long clientPeak = PeakMiB(client.Id);
        await SendAsync(client, "quit\n");
        Assert.True(await client.WaitForExitAsync(Timeout) == 0, client.ToString());
        Assert.Equal(Items, CountOf(client.Output, $"({ItemBytes} bytes): verified"));

        string measured = $"{Items} x 64 MiB: server VmHWM {serverAtStart} MiB at start, {serverPeak} MiB after; client VmHWM {clientPeak} MiB";
        output.WriteLine(measured);
        Assert.True(serverPeak < ServerBoundMiB && clientPeak < ClientBoundMiB, $"{measured} (bounds: server {ServerBoundMiB}, client {ClientBoundMiB})");
        Assert.Equal(0, await server.StopAsync());
    }

    private static async Task SendAsync(SampleProcess process, string lines)
    {
        await process.Input.WriteAsync(Encoding.UTF8.GetBytes(lines));
        await process.Input.FlushAsync();
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>The most resident memory the process has had so far (VmHWM), in MiB.</summary>
    private static long PeakMiB(int pid)
    {
        string line = File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }
}
