using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples.Tests.Infrastructure;
using MessageStore.Protos;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>The MessageStore sample across processes: its server, its client, and clients that die or servers that lie.</summary>
[Trait("Category", "Samples")]
public sealed class MessageStoreTests(MessageStoreServerFixture fixture) : IClassFixture<MessageStoreServerFixture>, IDisposable
{
    private const string Sample = "MessageStore.dll";
    private const int MaxItemBytes = 64 * 1024 * 1024;
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(120);

    private readonly string _queue = $"queue-{Guid.NewGuid():N}";
    private readonly string _state = Directory.CreateTempSubdirectory("messagestore-tests-").FullName;

    private static readonly Regex Travelled = new(
        "^travelled over Mach: sent (?<sentInline>[0-9]+) messages inline and (?<sentOutOfLine>[0-9]+) out of line; received (?<receivedInline>[0-9]+) inline and (?<receivedOutOfLine>[0-9]+) out of line$",
        RegexOptions.Multiline);

    private static DateTime Deadline => DateTime.UtcNow.Add(ClientTimeout);

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task AThousandItemsComeBackInTheOrderTheyWereStored()
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(fixture.ServiceName);
        var client = new ItemStore.ItemStoreClient(channel);
        var ids = new List<string>();

        for (int i = 0; i < 1000; i++)
        {
            ids.Add((await client.StoreAsync(_queue, ByteString.CopyFromUtf8($"item {i}"), Deadline)).Id);
        }

        for (int i = 0; i < 1000; i++)
        {
            RetrievedItem reply = await client.RetrieveAsync(_queue, Deadline);
            Assert.Equal((ids[i], $"item {i}"), (reply.Id, reply.Data.ToStringUtf8()));
        }

        Assert.True((await client.RetrieveAsync(_queue, Deadline)).Empty);
        Assert.Equal(1000, ids.Distinct().Count());
    }

    [Fact]
    public async Task A64MiBItemStoredByOneClientProcessIsVerifiedByTheNextFromTheKeptSha256()
    {
        string file = Path.Combine(_state, "item.bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(MaxItemBytes));

        await using SampleProcess sender = StartClient("send", "@" + file);
        Assert.True(await sender.WaitForExitAsync(ClientTimeout) == 0, $"{sender}\nthe server's last lines:\n{fixture.Server.ErrorTail(20)}");
        Assert.Contains($"({MaxItemBytes} bytes)", sender.Output, StringComparison.Ordinal);
        string retrieved = Path.Combine(_state, "retrieved.bin");
        await using SampleProcess retriever = StartClient("retrieve", "--out", retrieved);
        Assert.True(await retriever.WaitForExitAsync(ClientTimeout) == 0, retriever.ToString());

        Assert.Contains($"({MaxItemBytes} bytes): verified\nwritten to {retrieved}", retriever.Output, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(retrieved));
        Assert.Contains($"pid {retriever.Id}: confirmed item ", fixture.Server.Error, StringComparison.Ordinal);

        // Issue 20 item 6: each says how the item travelled over Mach, and both ways it went out of line (uploads since
        // the client's send loop gathers a request body's full 16 KiB DATA frames: docs/performance.md).
        Match upload = Travelled.Match(sender.Output);
        Assert.True(upload.Success && long.Parse(upload.Groups["sentOutOfLine"].Value, CultureInfo.InvariantCulture) > 0, sender.Output);
        Match download = Travelled.Match(retriever.Output);
        Assert.True(download.Success && long.Parse(download.Groups["receivedOutOfLine"].Value, CultureInfo.InvariantCulture) > 0, retriever.Output);
    }

    [Fact]
    public async Task AnItemOver64MiBIsRefusedWithTheLimitAndNotStored()
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(fixture.ServiceName);
        var client = new ItemStore.ItemStoreClient(channel);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() =>
            client.StoreAsync(_queue, ByteString.CopyFrom(new byte[MaxItemBytes + 1]), Deadline));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal($"An item may have at most {MaxItemBytes} bytes (64 MiB); this one has {MaxItemBytes + 1}.", refused.Status.Detail);
        Assert.True((await client.RetrieveAsync(_queue, Deadline)).Empty);
    }

    [Fact]
    public async Task AStoreWhoseBytesAreNotTheLengthItAnnouncedIsRefusedAndLeavesNothing()
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(fixture.ServiceName);
        var client = new ItemStore.ItemStoreClient(channel);

        using (AsyncClientStreamingCall<StoreRequest, StoreReply> fewer = client.Store(deadline: Deadline))
        {
            await fewer.RequestStream.WriteAsync(new StoreRequest { Queue = _queue, Length = 10, Data = ByteString.CopyFromUtf8("short") });
            await fewer.RequestStream.CompleteAsync();
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => fewer.ResponseAsync);
            Assert.Equal((StatusCode.InvalidArgument, "The item ended after 5 of the 10 bytes announced: not stored."), (refused.StatusCode, refused.Status.Detail));
        }

        using (AsyncClientStreamingCall<StoreRequest, StoreReply> more = client.Store(deadline: Deadline))
        {
            await more.RequestStream.WriteAsync(new StoreRequest { Queue = _queue, Length = 3, Data = ByteString.CopyFromUtf8("three") });
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => more.ResponseAsync);
            Assert.Equal((StatusCode.InvalidArgument, "More bytes than the 3 announced: not stored."), (refused.StatusCode, refused.Status.Detail));
        }

        Assert.True((await client.RetrieveAsync(_queue, Deadline)).Empty);
    }

    [Fact]
    public async Task AStoreLeftHalfwayHoldsUpNoOtherStoreNorConfirmAndEndsWhole()
    {
        const int Chunk = StoreCalls.ChunkBytes;
        byte[] slow = RandomNumberGenerator.GetBytes(3 * Chunk);
        using GrpcChannel slowChannel = MachGrpcChannel.ForService(fixture.ServiceName);
        using GrpcChannel otherChannel = MachGrpcChannel.ForService(fixture.ServiceName);
        var other = new ItemStore.ItemStoreClient(otherChannel);
        using AsyncClientStreamingCall<StoreRequest, StoreReply> halfway = new ItemStore.ItemStoreClient(slowChannel).Store(deadline: Deadline);
        await halfway.RequestStream.WriteAsync(new StoreRequest { Queue = _queue, Length = slow.Length, Data = ByteString.CopyFrom(slow, 0, Chunk) });
        await halfway.RequestStream.WriteAsync(new StoreRequest { Data = ByteString.CopyFrom(slow, Chunk, Chunk) });

        // Its first chunks are in the database and its client is silent: the store goes on for everyone else.
        string otherQueue = _queue + "-other";
        string id = (await other.StoreAsync(otherQueue, ByteString.CopyFromUtf8("not held up"), Deadline)).Id;
        RetrievedItem taken = await other.RetrieveAsync(otherQueue, Deadline);
        await other.ConfirmAsync(new ConfirmRequest { Queue = otherQueue, Id = taken.Id }, deadline: Deadline);
        Assert.Equal((id, "not held up"), (taken.Id, taken.Data.ToStringUtf8()));
        Assert.True((await other.RetrieveAsync(_queue, Deadline)).Empty); // half an item is no item

        await halfway.RequestStream.WriteAsync(new StoreRequest { Data = ByteString.CopyFrom(slow, 2 * Chunk, Chunk) });
        await halfway.RequestStream.CompleteAsync();
        string slowId = (await halfway.ResponseAsync).Id;
        RetrievedItem whole = await other.RetrieveAsync(_queue, Deadline);
        Assert.Equal(slowId, whole.Id);
        Assert.Equal(slow, whole.Data.ToByteArray());
    }

    [Fact]
    public async Task AClientKilledInTheMiddleOfALargeStoreLeavesNoItemAndTheServerAnswersTheNext()
    {
        await using (SampleProcess partial = SampleProcess.Start("MachTransport.Samples.Tests.dll", "partial-store", fixture.ServiceName, _queue))
        {
            await partial.WaitForOutputAsync(line => line == "HALF SENT", ClientTimeout);
            await partial.KillAsync();
            await fixture.Server.WaitForErrorAsync(line => line.Contains($"pid {partial.Id}: call /messagestore.ItemStore/Store cut off", StringComparison.Ordinal), ClientTimeout);
        }

        using GrpcChannel channel = MachGrpcChannel.ForService(fixture.ServiceName);
        var client = new ItemStore.ItemStoreClient(channel);
        Assert.True((await client.RetrieveAsync(_queue, Deadline)).Empty);
        string id = (await client.StoreAsync(_queue, ByteString.CopyFromUtf8("after"), Deadline)).Id;
        RetrievedItem reply = await client.RetrieveAsync(_queue, Deadline);
        Assert.Equal((id, "after"), (reply.Id, reply.Data.ToStringUtf8()));
    }

    [Theory]
    [InlineData("half-read-retrieve", "HALF READ")] // half of the reply read, the rest on its way
    [InlineData("unconfirmed-retrieve", "RECEIVED ")] // the whole item received, not yet confirmed
    [InlineData("sample-client", null)] // the sample's own client, killed as soon as the server has leased it the item
    public async Task AClientKilledMidRetrieveLeavesTheItemWholeForTheNextClient(string killed, string? killWhen)
    {
        const int ItemBytes = 48 * 1024 * 1024;
        string file = Path.Combine(_state, "item.bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(ItemBytes));
        await using (SampleProcess sender = StartClient("send", "@" + file))
        {
            Assert.True(await sender.WaitForExitAsync(ClientTimeout) == 0, sender.ToString());
        }

        string retrieved = Path.Combine(_state, "retrieved.bin");
        await using (SampleProcess victim = killWhen is null
            ? StartClient("retrieve", "--out", retrieved)
            : SampleProcess.Start("MachTransport.Samples.Tests.dll", killed, fixture.ServiceName, _queue))
        {
            if (killWhen is null)
            {
                await fixture.Server.WaitForErrorAsync(line => line.Contains($"pid {victim.Id}: leased item ", StringComparison.Ordinal), ClientTimeout);
            }
            else
            {
                await victim.WaitForOutputAsync(line => line.StartsWith(killWhen, StringComparison.Ordinal), ClientTimeout);
            }

            await victim.KillAsync();
            Assert.False(File.Exists(retrieved), $"the client was killed too late: it had written the item. {victim}");
            await fixture.Server.WaitForErrorAsync(line => line.Contains($"pid {victim.Id}: item ", StringComparison.Ordinal) && line.Contains($"back at the head of queue '{_queue}': its connection ended", StringComparison.Ordinal), ClientTimeout);
        }

        await using SampleProcess next = StartClient("retrieve", "--out", retrieved);
        Assert.True(await next.WaitForExitAsync(ClientTimeout) == 0, next.ToString());
        Assert.Contains($"({ItemBytes} bytes): verified\nwritten to {retrieved}", next.Output, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(retrieved));
        await using SampleProcess after = StartClient("retrieve");
        Assert.True(await after.WaitForExitAsync(ClientTimeout) == 3, after.ToString()); // confirmed: gone for good
    }

    [Fact]
    public async Task AStoreWhoseBodyStartsSecondsAfterItsHeadersIsStillStored()
    {
        // As a client starting on a busy machine does: the headers go out, then serializing a large item takes a while.
        // Kestrel's default (240 B/s after a 5 s grace) aborted such a connection.
        using var http = new HttpClient(MachHttpHandler.Create(fixture.ServiceName));
        using HttpRequestMessage request = PartialStore.StoreRequestWith(new LateContent(
            PartialStore.Frame(new StoreRequest { Queue = _queue, Data = ByteString.CopyFromUtf8("late"), Length = 4 }), TimeSpan.FromSeconds(8)));

        using HttpResponseMessage response = await http.SendAsync(request).WaitAsync(ClientTimeout);

        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        using GrpcChannel channel = MachGrpcChannel.ForService(fixture.ServiceName);
        RetrievedItem stored = await new ItemStore.ItemStoreClient(channel).RetrieveAsync(_queue, Deadline);
        Assert.Equal("late", stored.Data.ToStringUtf8());
    }

    [Fact]
    public async Task AnItemAlteredOnTheWayIsReportedAsTampered()
    {
        string service = TestEnvironment.UniqueServiceName("tampering");
        await using WebApplication standIn = await TamperingItemStore.StartAsync(service);

        await using SampleProcess sender = StartClientOf(service, "send", "an item that will come back altered");
        Assert.True(await sender.WaitForExitAsync(ClientTimeout) == 0, sender.ToString());
        await using SampleProcess retriever = StartClientOf(service, "retrieve");

        Assert.True(await retriever.WaitForExitAsync(ClientTimeout) == 1, retriever.ToString());
        Assert.Contains("(35 bytes): tampered", retriever.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePromptSendsRetrievesAndQuitsWhenDrivenThroughStdin()
    {
        string file = Path.Combine(_state, "item.bin");
        string retrieved = Path.Combine(_state, "retrieved.bin");
        byte[] binary = RandomNumberGenerator.GetBytes(100_000);
        await File.WriteAllBytesAsync(file, binary);
        await using SampleProcess prompt = StartClient();

        // The binary item's question ("file to write it to") is answered with a path.
        await prompt.Input.WriteAsync(Encoding.UTF8.GetBytes($"send\nfirst item\nsend @{file}\nretrieve\nretrieve\n{retrieved}\nretrieve\nquit\n"));
        await prompt.Input.FlushAsync();

        Assert.True(await prompt.WaitForExitAsync(ClientTimeout) == 0, prompt.ToString());
        string[] results = prompt.Output.Split('\n').Where(line => line.StartsWith("> ", StringComparison.Ordinal)).ToArray();
        Assert.Matches("^> data: stored item [0-9a-f]{32} \\(10 bytes\\)$", results[0]);
        Assert.Matches("^> stored item [0-9a-f]{32} \\(100000 bytes\\)$", results[1]);
        Assert.Matches("^> item [0-9a-f]{32} \\(10 bytes\\): verified, text: first item$", results[2]);
        Assert.Matches("^> item [0-9a-f]{32} \\(100000 bytes\\): verified$", results[3]);
        Assert.Contains($"not short text: file to write it to [", prompt.Output, StringComparison.Ordinal);
        Assert.Contains($"]: written to {retrieved}\n", prompt.Output, StringComparison.Ordinal);
        Assert.Equal($"> queue '{_queue}' is empty", results[4]);
        Assert.Equal(binary, await File.ReadAllBytesAsync(retrieved));
    }

    [Fact]
    public async Task RetrievePrintsATextItemAndWritesABinaryOneToTheFileNamedWithOut()
    {
        string text = "a line of text, é and ✓ included";
        byte[] binary = [0, 1, 2, 0xFF, 0xFE, 10, 13, 0];
        string file = Path.Combine(_state, "item.bin");
        await File.WriteAllBytesAsync(file, binary);
        foreach (string[] send in new[] { new[] { "send", text }, new[] { "send", "@" + file } })
        {
            await using SampleProcess sender = StartClient(send);
            Assert.True(await sender.WaitForExitAsync(ClientTimeout) == 0, sender.ToString());
        }

        await using SampleProcess textRetriever = StartClient("retrieve");
        Assert.True(await textRetriever.WaitForExitAsync(ClientTimeout) == 0, textRetriever.ToString());
        Assert.Contains($"): verified, text: {text}\n", textRetriever.Output, StringComparison.Ordinal);

        string retrieved = Path.Combine(_state, "out", "retrieved.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(retrieved)!);
        await using SampleProcess binaryRetriever = StartClient("retrieve", "--out", retrieved);
        Assert.True(await binaryRetriever.WaitForExitAsync(ClientTimeout) == 0, binaryRetriever.ToString());
        Assert.Contains($"(8 bytes): verified\nwritten to {retrieved}\n", binaryRetriever.Output, StringComparison.Ordinal);
        Assert.Equal(binary, await File.ReadAllBytesAsync(retrieved));
        Assert.Equal([retrieved], Directory.GetFiles(Path.GetDirectoryName(retrieved)!)); // no partial file left beside it
    }

    [Fact]
    public async Task TheDemoRunsItsServerAsAChildAndExits0()
    {
        await using SampleProcess demo = SampleProcess.Start(Sample, "demo", "--service", TestEnvironment.UniqueServiceName("storedemo"));

        Assert.True(await demo.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, demo.ToString());
        Assert.Contains("(1048576 bytes): verified", demo.Output, StringComparison.Ordinal);
        Assert.Contains("server stopped (exit code 0)", demo.Output, StringComparison.Ordinal);
    }

    private SampleProcess StartClient(params string[] command) => StartClientOf(fixture.ServiceName, command);

    private SampleProcess StartClientOf(string service, params string[] command) =>
        SampleProcess.Start(Sample, ["client", "--service", service, "--queue", _queue, "--state", _state, .. command]);

    /// <summary>A request body whose bytes come <paramref name="delay"/> after the request started: the slow client simulated.</summary>
    private sealed class LateContent(byte[] body, TimeSpan delay) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.FlushAsync(); // the headers go out now
            await Task.Delay(delay);
            await stream.WriteAsync(body);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
