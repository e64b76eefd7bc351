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
        (_server, TcpPort) = await StartServerAsync(ServiceName);
    }

    /// <summary>This test assembly as a server (<c>dotnet MachTransport.Grpc.Tests.dll serve &lt;service&gt;</c>), once it serves.</summary>
    /// <returns>The process and the TCP port it also listens on.</returns>
    public static async Task<(ChildProcess Server, int TcpPort)> StartServerAsync(string serviceName)
    {
        ChildProcess server = ChildProcess.Start(AssemblyName, "serve", serviceName);
        string ready = await server.ReadLineAsync(TimeSpan.FromSeconds(60));
        if (!ready.StartsWith("READY ", StringComparison.Ordinal))
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"The tester server said '{ready}' instead of READY.");
        }

        return (server, int.Parse(ready["READY ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>This test assembly, which is also the server and the other-user client of the cross-process tests.</summary>
    public static string AssemblyName { get; } = typeof(TesterServerFixture).Assembly.GetName().Name!;

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
