using System.Globalization;
using EchoFiles.Protos;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples.Tests.Infrastructure;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>The EchoFiles sample across processes: a server of its own per test, in a data folder of its own.</summary>
[Trait("Category", "Samples")]
public sealed class EchoFilesTests : IAsyncLifetime
{
    private const string Sample = "EchoFiles.dll";
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(60);

    private readonly string _service = TestEnvironment.UniqueServiceName("echofiles");
    private readonly string _directory = Directory.CreateTempSubdirectory("echofiles-tests-").FullName;
    private SampleProcess? _server;

    private SampleProcess Server => _server!;

    public async Task InitializeAsync() => _server = await SampleProcess.StartServerAsync(Sample, "--service", _service, "--dir", _directory);

    public async Task DisposeAsync()
    {
        int exitCode = await Server.StopAsync();
        await Server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
        Assert.True(exitCode == 0, $"The server exited with {exitCode}. {Server}");
        Assert.Empty(Server.ErrorOrCriticalLines()); // oversized messages, stalled and cancelled calls: none is the server's error
    }

    [Fact]
    public async Task OneByteFromStdinAnd1024FromTheCommandLineEchoIdenticalIntoAFileNamedAfterTheClientsPid()
    {
        await using SampleProcess oneByte = StartClient();
        await oneByte.Input.WriteAsync(new byte[] { 0x2A });
        oneByte.Input.Close();
        string kilobyte = new('k', 1024);
        await using SampleProcess oneKilobyte = StartClient(kilobyte);

        await AssertEchoedAsync(oneByte, "echo identical (1 bytes)");
        await AssertEchoedAsync(oneKilobyte, "echo identical (1024 bytes)");
        Assert.Equal(new byte[] { 0x2A }, await File.ReadAllBytesAsync(FileOf(oneByte.Id)));
        Assert.Equal(kilobyte, await File.ReadAllTextAsync(FileOf(oneKilobyte.Id)));
    }

    [Fact]
    public async Task AMessageOf1025BytesIsRefusedWithTheLimitAndNothingIsWritten()
    {
        await using SampleProcess client = StartClient(new string('x', 1025));

        int exitCode = await client.WaitForExitAsync(ClientTimeout);

        Assert.True(exitCode == 1, client.ToString());
        Assert.Contains("refused: InvalidArgument: A message may carry at most 1024 bytes; this one carried 1025.", client.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public async Task TheSameDataAgainDeletesTheFileOfThisClient()
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(_service);
        using AsyncDuplexStreamingCall<EchoMessage, EchoMessage> call = new Echoer.EchoerClient(channel).Echo(deadline: DateTime.UtcNow.AddSeconds(60));
        string file = FileOf(Environment.ProcessId); // this test process is the client: the file bears its real pid

        Assert.Equal("first", await EchoAsync(call, "first"));
        Assert.Equal("first", await File.ReadAllTextAsync(file));
        Assert.Equal("second", await EchoAsync(call, "second"));
        Assert.Equal("second", await File.ReadAllTextAsync(file));
        Assert.Equal("second", await EchoAsync(call, "second"));
        Assert.False(File.Exists(file));

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task FiftyClientProcessesAtOnceEachGetTheirOwnFile()
    {
        const int Clients = 50;
        // Fifty runtimes starting at once keep both cores busy for tens of seconds, longer under a loaded test run: the
        // calls get a deadline that covers that, and the test the same and a little more.
        SampleProcess[] clients = Enumerable.Range(0, Clients).Select(i => StartClient("--deadline", "150", $"client {i}")).ToArray();
        try
        {
            await Task.WhenAll(clients.Select(client => AssertEchoedAsync(client, $"echo identical (", TimeSpan.FromSeconds(180))));

            for (int i = 0; i < Clients; i++)
            {
                Assert.Equal($"client {i}", await File.ReadAllTextAsync(FileOf(clients[i].Id)));
            }

            Assert.Equal(Clients, Directory.GetFiles(_directory).Length);
        }
        finally
        {
            foreach (SampleProcess client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AClientThatNeverReadsItsEchoesNorEndsItsCallDoesNotDelayAnother()
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(_service);
        using var stop = new CancellationTokenSource();
        using AsyncDuplexStreamingCall<EchoMessage, EchoMessage> stalled = new Echoer.EchoerClient(channel).Echo(cancellationToken: stop.Token);
        var message = new EchoMessage { Data = ByteString.CopyFrom(new byte[1024]) };
        Task pending = Task.CompletedTask;
        int written = 0;
        for (int attempt = 1; ; attempt++)
        {
            // Writes whose echoes nobody reads, until one stays pending for 2 s: the server has stopped reading this call
            // because its echoes cannot be delivered, i.e. it is stuck writing to this client. A busy machine can hold a
            // write that long without a stall; the buffers on the way are finite, so a later attempt reaches the real one.
            while (written < 64 * 1024 && pending.IsCompleted)
            {
                pending = stalled.RequestStream.WriteAsync(message, stop.Token);
                written++;
                await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(2), stop.Token));
            }

            Assert.False(pending.IsCompleted, "64 MiB of unread echoes did not stall the call.");
            string text = $"not delayed {attempt}";
            await using SampleProcess other = StartClient(text);
            await AssertEchoedAsync(other, $"echo identical ({text.Length} bytes)");
            Assert.Equal(text, await File.ReadAllTextAsync(FileOf(other.Id)));

            // Served while the stalled call was still stuck: what this test is about.
            if (!pending.IsCompleted)
            {
                break;
            }

            Assert.True(attempt < 5, "The stalled client's writes kept completing: no stall was ever held.");
            await pending;
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => pending).WaitAsync(ClientTimeout);
    }

    [Fact]
    public async Task TheDemoRunsItsServerAsAChildAndExits0()
    {
        string directory = Directory.CreateTempSubdirectory("echofiles-demo-").FullName;
        try
        {
            await using SampleProcess demo = SampleProcess.Start(Sample, "demo", "--service", TestEnvironment.UniqueServiceName("echodemo"), "--dir", directory);

            Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, demo.ToString());
            Assert.Contains("the same message again: ", demo.Output, StringComparison.Ordinal);
            Assert.Contains("refused: InvalidArgument: A message may carry at most 1024 bytes", demo.Output, StringComparison.Ordinal);
            Assert.Contains("server stopped (exit code 0)", demo.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<string> EchoAsync(AsyncDuplexStreamingCall<EchoMessage, EchoMessage> call, string text)
    {
        await call.RequestStream.WriteAsync(new EchoMessage { Data = ByteString.CopyFromUtf8(text) });
        Assert.True(await call.ResponseStream.MoveNext());
        return call.ResponseStream.Current.Data.ToStringUtf8();
    }

    private static async Task AssertEchoedAsync(SampleProcess client, string expected, TimeSpan? timeout = null)
    {
        int exitCode;
        try
        {
            exitCode = await client.WaitForExitAsync(timeout ?? ClientTimeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the client did not finish in {(timeout ?? ClientTimeout).TotalSeconds} s; so far: {client}");
            throw;
        }

        Assert.True(exitCode == 0 && client.Output.Contains(expected, StringComparison.Ordinal), client.ToString());
    }

    private SampleProcess StartClient(params string[] data) => SampleProcess.Start(Sample, ["client", "--service", _service, .. data]);

    private string FileOf(int pid) => Path.Combine(_directory, pid.ToString(CultureInfo.InvariantCulture));
}
