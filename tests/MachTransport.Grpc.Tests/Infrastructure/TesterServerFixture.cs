using Grpc.Net.Client;
using Xunit;

namespace MachTransport.Grpc.Tests.Infrastructure;

/// <summary>One Tester server process per test class, on a Mach service of its own and a TCP port.</summary>
public sealed class TesterServerFixture : IAsyncLifetime
{
    private ChildProcess? _server;

    public string ServiceName { get; } = TestEnvironment.UniqueServiceName("tester");

    public int TcpPort { get; private set; }

    public async Task InitializeAsync()
    {
        (_server, TcpPort) = await ChildProcess.StartTesterServerAsync(ServiceName);
    }

    /// <summary>A channel to the server over Mach.</summary>
    public GrpcChannel CreateMachChannel(GrpcChannelOptions? options = null) => MachGrpcChannel.ForService(ServiceName, options);

    /// <summary>A channel to the server over TCP (h2c).</summary>
    public GrpcChannel CreateTcpChannel() => GrpcChannel.ForAddress($"http://127.0.0.1:{TcpPort}");

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.WriteLineAsync("stop");
            (_, string error) = await _server.WaitForExitAsync(TimeSpan.FromSeconds(30));
            int exitCode = _server.ExitCode;
            await _server.DisposeAsync();
            Assert.True(exitCode == 0, $"The server exited with {exitCode}: {error}");
        }
    }
}
