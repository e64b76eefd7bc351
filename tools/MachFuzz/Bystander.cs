// The well-behaved client that keeps working beside the fuzzer: HTTP/2 over Mach, each request's payload checked
// end to end (SHA-256 of an upload computed by the server, a downloaded stream regenerated from its seed).
using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace MachTransport.Fuzz;

internal sealed class Bystander : IDisposable
{
    // Inline, at the threshold, out of line, several windows' worth.
    private static readonly int[] s_sizes = [0, 1, 100, 5000, 16384, 16385, 70_000, 300_000, 2_500_000];

    private readonly HttpClient _client;
    private readonly List<string> _failures = [];
    private long _succeeded;

    public Bystander(string service)
    {
        _client = new HttpClient(MachHttpHandler.Create(service))
        {
            BaseAddress = new Uri("http://localhost"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public int FailureCount
    {
        get
        {
            lock (_failures)
            {
                return _failures.Count;
            }
        }
    }

    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_failures)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>Runs <paramref name="loops"/> request loops until <paramref name="stop"/>; request n of loop l uses seed (l, n).</summary>
    public Task RunAsync(int loops, CancellationToken stop)
        => Task.WhenAll(Enumerable.Range(0, loops).Select(loop => Task.Run(() => LoopAsync(loop, stop), CancellationToken.None)));

    /// <summary>One request of every kind and size (warm-up, and a check after the fuzzing).</summary>
    public async Task<bool> RoundAsync()
    {
        long before = FailureCount;
        for (int i = 0; i < s_sizes.Length; i++)
        {
            await OneAsync(new Random(i), s_sizes[i], i % 2 == 0).ConfigureAwait(false);
        }

        return FailureCount == before;
    }

    public void Dispose() => _client.Dispose();

    private async Task LoopAsync(int loop, CancellationToken stop)
    {
        for (int n = 0; !stop.IsCancellationRequested; n++)
        {
            var random = new Random((loop * 1_000_003) + n);
            await OneAsync(random, s_sizes[random.Next(s_sizes.Length)], random.Next(2) == 0).ConfigureAwait(false);
        }
    }

    private async Task OneAsync(Random random, int size, bool upload)
    {
        try
        {
            if (upload)
            {
                byte[] payload = new byte[size];
                random.NextBytes(payload);
                using var content = new ByteArrayContent(payload);
                using HttpResponseMessage response = await _client.PostAsync(new Uri("/sha256", UriKind.Relative), content).ConfigureAwait(false);
                string answer = await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync().ConfigureAwait(false);
                string expected = $"{size} {Convert.ToHexString(SHA256.HashData(payload))}";
                Check(answer == expected, $"upload of {size} bytes: server hashed '{answer}', expected '{expected}'");
            }
            else
            {
                int seed = random.Next();
                byte[] body = await _client.GetByteArrayAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"/bytes?n={size}&seed={seed}"), UriKind.Relative)).ConfigureAwait(false);
                Check(body.AsSpan().SequenceEqual(Expected(size, seed)), $"download of {size} bytes (seed {seed}) differs ({body.Length} bytes)");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or InvalidOperationException)
        {
            Fail($"{(upload ? "upload" : "download")} of {size} bytes: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>What the test host's /bytes sends: 64 KiB blocks of <see cref="Random"/>(seed) bytes.</summary>
    private static byte[] Expected(int size, int seed)
    {
        var random = new Random(seed);
        byte[] expected = new byte[size];
        byte[] block = new byte[65536];
        for (int offset = 0; offset < size; offset += block.Length)
        {
            random.NextBytes(block);
            block.AsSpan(0, Math.Min(block.Length, size - offset)).CopyTo(expected.AsSpan(offset));
        }

        return expected;
    }

    private void Check(bool condition, string failure)
    {
        if (condition)
        {
            Interlocked.Increment(ref _succeeded);
        }
        else
        {
            Fail(failure);
        }
    }

    private void Fail(string failure)
    {
        lock (_failures)
        {
            _failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {failure}");
        }
    }
}
