using System.Globalization;
using EchoFiles.Protos;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples.Tests.Infrastructure;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>
/// Issue 20 item 8: a process that got a dead client's pid does not delete that client's file. A real pid reuse
/// cannot be forced in a test (the kernel hands out pids in order, across the whole machine), so the server reads its
/// process table from a folder of the test's own (ECHOFILES_PROC_ROOT): the test process is the client, and between
/// two connections it rewrites its own "stat" there with another start time, which is exactly what the server would
/// read in /proc for a new process that got the same pid.
/// </summary>
[Trait("Category", "Samples")]
public sealed class EchoFilesPidReuseTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("echofiles-reuse-").FullName;
    private readonly string _proc = Directory.CreateTempSubdirectory("echofiles-proc-").FullName;

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        Directory.Delete(_proc, recursive: true);
    }

    [ProcFact]
    public async Task TheSameDataFromALaterProcessWithTheSamePidKeepsTheEarlierOnesFile()
    {
        string service = TestEnvironment.UniqueServiceName("echofiles-reuse");
        await using SampleProcess server = await SampleProcess.StartServerAsync(
            "EchoFiles.dll", new Dictionary<string, string> { ["ECHOFILES_PROC_ROOT"] = _proc }, "--service", service, "--dir", _directory);
        int pid = Environment.ProcessId;
        string file = Path.Combine(_directory, pid.ToString(CultureInfo.InvariantCulture));

        // The first process with this pid, started at tick 1000, leaves its message.
        await FakeStartTimeAsync(pid, 1000);
        Assert.Equal("mine", await EchoOnANewConnectionAsync(service, "mine"));
        Assert.Equal("mine", await File.ReadAllTextAsync(file));

        // "Another" process with the same pid (started at tick 2000) sends the same data: the first one's file is kept.
        await FakeStartTimeAsync(pid, 2000);
        Assert.Equal("mine", await EchoOnANewConnectionAsync(service, "mine"));
        Assert.Equal("mine", await File.ReadAllTextAsync(file + "~1000"));
        Assert.Equal("mine", await File.ReadAllTextAsync(file)); // the new process's own file, not a deletion
        await server.WaitForErrorAsync(line => line.Contains($"pid {pid} reused: its file was written by the process started at 1000, this one started at 2000", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        // The same process again (a new connection, the same start time): its own file, so the same data deletes it.
        Assert.Equal("mine", await EchoOnANewConnectionAsync(service, "mine"));
        Assert.False(File.Exists(file));
        Assert.True(File.Exists(file + "~1000"));
        Assert.Equal(0, await server.StopAsync());
    }

    [ProcFact]
    public async Task WithoutAFakeTheServerReadsTheRealStartTimeAndTheSameProcessDeletesItsFile()
    {
        string service = TestEnvironment.UniqueServiceName("echofiles-real");
        await using SampleProcess server = await SampleProcess.StartServerAsync("EchoFiles.dll", "--service", service, "--dir", _directory);
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string stat = await File.ReadAllTextAsync($"/proc/{pid}/stat");
        string realStart = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[19];

        Assert.Equal("again", await EchoOnANewConnectionAsync(service, "again"));
        Assert.Equal(realStart, await File.ReadAllTextAsync(Path.Combine(_directory, ".owners", pid)));
        Assert.Equal("again", await EchoOnANewConnectionAsync(service, "again"));

        Assert.Empty(Directory.GetFiles(_directory));
        Assert.Equal(0, await server.StopAsync());
    }

    /// <summary>A stat line as proc(5) has it, with a command name that holds spaces and a parenthesis, as a real one may.</summary>
    private async Task FakeStartTimeAsync(int pid, ulong startTime)
    {
        string folder = Directory.CreateDirectory(Path.Combine(_proc, pid.ToString(CultureInfo.InvariantCulture))).FullName;
        string[] afterName = ["S", "1", .. Enumerable.Repeat("0", 17), startTime.ToString(CultureInfo.InvariantCulture), "123456", "789"];
        await File.WriteAllTextAsync(Path.Combine(folder, "stat"), $"{pid} (a (fake) name) {string.Join(' ', afterName)}\n");
    }

    /// <summary>One message on a connection of its own: the server reads the start time when it admits a connection.</summary>
    private static async Task<string> EchoOnANewConnectionAsync(string service, string text)
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(service);
        using AsyncDuplexStreamingCall<EchoMessage, EchoMessage> call = new Echoer.EchoerClient(channel).Echo(deadline: DateTime.UtcNow.AddSeconds(60));
        await call.RequestStream.WriteAsync(new EchoMessage { Data = ByteString.CopyFromUtf8(text) });
        Assert.True(await call.ResponseStream.MoveNext());
        string echoed = call.ResponseStream.Current.Data.ToStringUtf8();
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        return echoed;
    }
}
