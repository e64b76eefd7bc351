// grpc-dotnet over Mach (MachGrpcChannel) -> machctl expose -> a grpc-js TestService on TCP: the standard cases.
using Grpc.Core;
using MachTransport.Grpc;
using MachTransport.Interop.Tests.Client;
using MachTransport.Interop.Tests.Infrastructure;
using MachTransport.Tools.Tests;
using Xunit;

namespace MachTransport.Interop.Tests;

/// <summary>tests/interop/interop_server.js behind <c>machctl expose</c>, for one test class.</summary>
public sealed class GrpcJsServer : IAsyncLifetime
{
    private NodeProcess? _node;
    private Machctl? _expose;

    public string Service { get; } = TestEnvironment.UniqueServiceName("grpcjs");

    public async Task InitializeAsync()
    {
        _node = Node.Start("interop_server.js");
        string ready = await _node.ReadLineAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("READY ", ready);
        _expose = await Machctl.StartAsync("expose", "--service", Service, "--to", $"127.0.0.1:{ready["READY ".Length..]}");
    }

    public async Task DisposeAsync()
    {
        if (_expose is not null)
        {
            await _expose.DisposeAsync();
        }

        if (_node is not null)
        {
            _node.CloseInput(); // the server shuts down when its stdin closes
            (int exitCode, _, string error) = await _node.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await _node.DisposeAsync();
            Assert.True(exitCode == 0, $"interop_server.js exited with {exitCode}: {error}");
        }
    }
}

[Trait("Category", "Interop")]
public sealed class GrpcJsServerTests(GrpcJsServer server) : IClassFixture<GrpcJsServer>
{
    private InteropClient Client => new(() => MachGrpcChannel.ForService(server.Service), () => MachHttpHandler.Create(server.Service), MachGrpcChannel.Address);

    [Theory]
    [MemberData(nameof(InteropClient.StandardCases), MemberType = typeof(InteropClient))]
    public Task DotnetClientOverMachPassesTheCase(string testCase) => Client.RunAsync(testCase);

    /// <summary>
    /// client_compressed_unary less its probe (step 1): grpc-js decompresses requests before its handlers see them
    /// and hides their encoding, so its server cannot reject an uncompressed request that claims expect_compressed.
    /// The gzip request from grpc-dotnet must still be decoded by grpc-js, and the plain one accepted.
    /// </summary>
    [Fact]
    public Task ClientCompressedUnaryWithoutTheProbe() => Client.ClientCompressedUnaryAsync(probe: false);

    /// <summary>
    /// server_compressed_unary as far as grpc-js goes: it writes every server message uncompressed, so the
    /// uncompressed response carries flag 0, and a request for a compressed one is refused with a reason, not faked.
    /// </summary>
    [Fact]
    public async Task ServerCompressedUnaryAsFarAsGrpcJsCanCompress()
    {
        Assert.Equal(0, await Client.ServerCompressedUnaryFlagAsync(compressed: false));
        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => Client.ServerCompressedUnaryFlagAsync(compressed: true));
        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        Assert.Contains("cannot compress responses", refused.Status.Detail);
    }
}
