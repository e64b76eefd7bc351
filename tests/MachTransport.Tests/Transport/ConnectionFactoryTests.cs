using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>The pipe-level client (issue 18 item 6): an <see cref="IConnectionFactory"/> as Kestrel's socket one is.</summary>
[Trait("Category", "CrossProcess")]
public sealed class ConnectionFactoryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AConnectionIsPipesWithTheServersCredentialsAndTheServiceAsItsRemoteEndPoint()
    {
        await using TransportHost host = await TransportHost.StartAsync("factory-pipes");
        var factory = new MachConnectionFactory();
        var service = new MachEndPoint(host.Service + ".h1");

        await using ConnectionContext connection = await factory.ConnectAsync(service).AsTask().WaitAsync(Bound);

        MachPeerCredentials server = connection.Features.Get<IMachPeerCredentialsFeature>()!.Credentials;
        Assert.Equal(new MachPeerCredentials(host.Pid, Identity.Uid, Identity.Gid), server);
        Assert.Equal(service, connection.RemoteEndPoint);
        Assert.Null(connection.LocalEndPoint);

        // A request, then a half-close: the server still answers, and its end of the stream ends the input.
        await connection.Transport.Output.WriteAsync("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray());
        await connection.Transport.Output.CompleteAsync();
        string response = await ReadToEndAsync(connection.Transport.Input).WaitAsync(Bound);

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        Assert.Contains("hello HTTP/1.1", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEndPointThatIsNoMachEndPointIsAnArgumentError()
    {
        var factory = new MachConnectionFactory();
        var tcp = new IPEndPoint(IPAddress.Loopback, 80);

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => factory.ConnectAsync(tcp).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => factory.ConnectStreamAsync(tcp).AsTask());

        Assert.Equal("endpoint", error.ParamName);
        Assert.Contains("MachEndPoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:80", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LookingUpAnUnregisteredNameFailsAsConnectingWould()
    {
        var error = Assert.Throws<MachBootstrapException>(() => MachConnectionFactory.LookUp(new MachEndPoint(TestEnvironment.UniqueServiceName("nobody"))));

        Assert.Contains("is registered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AServiceNameIsCheckedWithoutAnException()
    {
        Assert.True(MachEndPoint.IsValidServiceName("com.example.greeter", out string? none));
        Assert.Null(none);

        Assert.False(MachEndPoint.IsValidServiceName("a/b", out string? error));
        ArgumentException thrown = Assert.Throws<ArgumentException>(() => new MachEndPoint("a/b"));
        Assert.StartsWith(error, thrown.Message, StringComparison.Ordinal);
    }

    private static async Task<string> ReadToEndAsync(PipeReader input)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            if (result.IsCompleted)
            {
                string text = Encoding.ASCII.GetString(result.Buffer);
                input.AdvanceTo(result.Buffer.End);
                return text;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
