// node's own http2 client (no .NET on the client side) through machctl bridge to the transport's test host, a
// minimal API on Mach: an answer, 64 MiB each way byte-exact, and the service killed mid-transfer.
using System.Globalization;
using System.Security.Cryptography;
using MachTransport.Interop.Tests.Infrastructure;
using MachTransport.Tests.Transport;
using MachTransport.Tools.Tests;
using Xunit;

namespace MachTransport.Interop.Tests;

[Trait("Category", "Interop")]
public sealed class NodeHttp2BridgeTests
{
    private const int SixtyFourMiB = 64 * 1024 * 1024;

    [Fact]
    public async Task NodeHttp2GetsAnAnswerFromAMinimalApiOnMach()
    {
        await using TransportHost host = await TransportHost.StartAsync("node-h2");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service);
        Assert.Equal("200 hello HTTP/2", await RunAsync("get", Port(bridge), "/hello"));
    }

    [Fact]
    public async Task SixtyFourMiBCrossTheBridgeBothWaysByteExact()
    {
        await using TransportHost host = await TransportHost.StartAsync("node-h2-large");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service);

        // Upload: node's SHA-256 of what it sent, then the server's "<length> <SHA-256>" of what it received.
        string[] upload = (await RunAsync("upload", Port(bridge), Text(SixtyFourMiB))).Split(' ');
        Assert.Equal([Text(SixtyFourMiB), upload[1]], upload[2..]);

        // Download: the host writes Random(seed)'s bytes; node hashes what arrives.
        Assert.Equal($"{SixtyFourMiB} {ExpectedDownloadSha256(SixtyFourMiB, seed: 7)}", await RunAsync("download", Port(bridge), Text(SixtyFourMiB), "7"));
    }

    [Fact]
    public async Task KillingTheServiceMidTransferClosesTheBridgedConnection()
    {
        TransportHost host = await TransportHost.StartAsync("node-h2-kill");
        await using Machctl bridge = await Machctl.StartAsync("bridge", "--listen", "127.0.0.1:0", "--service", host.Service);
        await using NodeProcess client = Node.Start("h2client.js", "cut", Port(bridge), "/infinite");
        Assert.Equal("STARTED", await client.ReadLineAsync(TimeSpan.FromSeconds(60)));

        await host.KillAsync();
        await host.DisposeAsync();

        // No timeout of node's ends the transfer: the bridge closes the TCP connection once the Mach peer is gone.
        Assert.StartsWith("CLOSED ", await client.ReadLineAsync(TimeSpan.FromSeconds(30)));
        Assert.False(bridge.HasExited);
    }

    private static string Port(Machctl bridge) => Text(bridge.Port);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static async Task<string> RunAsync(params string[] arguments)
    {
        (int exitCode, string output, string error) = await Node.RunAsync("h2client.js", arguments);
        Assert.True(exitCode == 0, $"{output} {error}");
        return output.Trim();
    }

    private static string ExpectedDownloadSha256(int length, int seed)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[65536];
        for (int left = length; left > 0; left -= buffer.Length)
        {
            random.NextBytes(buffer);
            hash.AppendData(buffer, 0, Math.Min(left, buffer.Length));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
