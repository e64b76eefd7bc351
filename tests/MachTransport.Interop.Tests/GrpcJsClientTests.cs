// A grpc-js client -> machctl bridge (TCP) -> the .NET TestService on Mach: the standard interop cases.
using Grpc.Net.Client;
using MachTransport.Interop.Tests.Client;
using MachTransport.Interop.Tests.Infrastructure;
using MachTransport.Interop.Tests.Server;
using Xunit;

namespace MachTransport.Interop.Tests;

[Trait("Category", "Interop")]
public sealed class GrpcJsClientTests(InteropServer server) : IClassFixture<InteropServer>
{
    public static TheoryData<string> Cases { get; } = new([.. InteropClient.StandardCaseNames, "client_compressed_unary", "server_compressed_unary"]);

    /// <summary>
    /// Every case as grpc-js runs it (tests/interop/interop_client.js). In server_compressed_unary grpc-js cannot see
    /// the compressed flag; <see cref="TheServerCompressesExactlyTheResponsesAskedForThroughTheBridge"/> checks it.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GrpcJsClientPassesTheCase(string testCase)
    {
        (int exitCode, string output, string error) = await Node.RunAsync("interop_client.js", "--server_host=127.0.0.1", $"--server_port={server.BridgePort}", $"--test_case={testCase}");
        Assert.True(exitCode == 0, $"{output} {error}");
        Assert.Equal($"PASS {testCase}", output.Trim());
    }

    /// <summary>server_compressed_unary with the flag checked, by a .NET client over TCP through the bridge.</summary>
    [Fact]
    public async Task TheServerCompressesExactlyTheResponsesAskedForThroughTheBridge()
    {
        InteropClient client = OverTheBridge();
        Assert.Equal(1, await client.ServerCompressedUnaryFlagAsync(compressed: true));
        Assert.Equal(0, await client.ServerCompressedUnaryFlagAsync(compressed: false));
    }

    /// <summary>client_compressed_unary with grpc-dotnet as the client too: the probe, then gzip and identity.</summary>
    [Fact]
    public Task TheServerChecksTheRequestsCompressedFlagThroughTheBridge() => OverTheBridge().RunAsync("client_compressed_unary");

    private InteropClient OverTheBridge()
    {
        var address = new Uri($"http://127.0.0.1:{server.BridgePort}");
        return new InteropClient(() => GrpcChannel.ForAddress(address), () => new SocketsHttpHandler(), address);
    }
}
