using System.Diagnostics;
using System.Globalization;
using EchoFiles.Protos;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>Issue 20 item 7: EchoFiles' command line says what it does (serve NAME, the client's deadline) and its server logs refusals, within a budget.</summary>
[Trait("Category", "Samples")]
public sealed class EchoFilesCommandLineTests : IDisposable
{
    private const string Sample = "EchoFiles.dll";
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("echofiles-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ServeNAMEServesOnNAME()
    {
        string service = TestEnvironment.UniqueServiceName("echofiles-named");
        await using SampleProcess server = await SampleProcess.StartServerAsync(Sample, service, "--dir", _directory);

        await using SampleProcess client = SampleProcess.Start(Sample, "client", "--service", service, "named");

        Assert.True(await client.WaitForExitAsync(ClientTimeout) == 0, $"{client}\nserver: {server}");
        Assert.Equal("named", await File.ReadAllTextAsync(Path.Combine(_directory, client.Id.ToString(CultureInfo.InvariantCulture))));
        Assert.Equal(0, await server.StopAsync());
    }

    [Theory]
    [InlineData("serve com.example.a --service com.example.b")]
    [InlineData("serve com.example.a com.example.b")]
    [InlineData("demo com.example.a --service com.example.b")]
    public async Task AServiceNameThatContradictsAnotherOrIsOneTooManyIsRefused(string commandLine)
    {
        await using SampleProcess server = SampleProcess.Start(Sample, [.. commandLine.Split(' '), "--dir", _directory]);

        Assert.True(await server.WaitForExitAsync(ClientTimeout) == 2, server.ToString());
        Assert.Contains("com.example.b", server.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedMessagesAreLoggedAFewAtATimeWithACountOfTheRest()
    {
        string service = TestEnvironment.UniqueServiceName("echofiles-refusals");
        await using SampleProcess server = await SampleProcess.StartServerAsync(Sample, "--service", service, "--dir", _directory);
        using GrpcChannel channel = MachGrpcChannel.ForService(service);
        var client = new Echoer.EchoerClient(channel);
        const int Refusals = 40;
        var clock = Stopwatch.StartNew();

        for (int i = 0; i < Refusals; i++)
        {
            using AsyncDuplexStreamingCall<EchoMessage, EchoMessage> call = client.Echo(deadline: DateTime.UtcNow.Add(ClientTimeout));
            await call.RequestStream.WriteAsync(new EchoMessage { Data = ByteString.CopyFrom(new byte[1025]) });
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        }

        TimeSpan elapsed = clock.Elapsed;
        await server.WaitForErrorAsync(line => line.Contains($"pid {Environment.ProcessId}: refused a message of 1025 bytes (more than 1024); 0 refusals", StringComparison.Ordinal), ClientTimeout);
        Assert.Equal(0, await server.StopAsync());

        // Five lines per 10 s window: however long the calls took, far fewer lines than refusals unless the machine crawled.
        int lines = server.Error.Split('\n').Count(line => line.Contains("refused a message of 1025 bytes", StringComparison.Ordinal));
        int allowed = 5 * ((int)(elapsed.TotalSeconds / 10) + 2);
        Assert.InRange(lines, 1, Math.Min(Refusals, allowed));
    }

    [Fact]
    public async Task TheClientsDeadlineIsAnOption()
    {
        string service = TestEnvironment.UniqueServiceName("echofiles-silent");
        await using WebApplication silent = await SilentEchoer.StartAsync(service);
        var clock = Stopwatch.StartNew();

        await using SampleProcess client = SampleProcess.Start(Sample, "client", "--service", service, "--deadline", "3", "unanswered");

        Assert.True(await client.WaitForExitAsync(ClientTimeout) == 1, client.ToString());
        Assert.Contains("refused: DeadlineExceeded", client.Output, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(29), $"the client took {clock.Elapsed}, not the 3 s asked for");
    }

    [Fact]
    public async Task ADeadlineThatIsNotAPositiveNumberOfSecondsIsRefused()
    {
        await using SampleProcess client = SampleProcess.Start(Sample, "client", "--deadline", "0", "x");

        Assert.True(await client.WaitForExitAsync(ClientTimeout) == 2, client.ToString());
        Assert.Contains("--deadline takes a positive number of seconds", client.Error, StringComparison.Ordinal);
    }
}
