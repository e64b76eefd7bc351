using Google.Protobuf;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples.Tests.Infrastructure;
using MessageStore.Protos;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>
/// Issue 20 item 5: the client's signature book: kept before the item is sent, marked on the reply, forgotten once
/// used, private (0600), and numbered per queue so that an item missing or overtaken is noticed.
/// </summary>
[Trait("Category", "Samples")]
public sealed class MessageStoreSignatureTests(MessageStoreServerFixture fixture) : IClassFixture<MessageStoreServerFixture>, IDisposable
{
    private const string Sample = "MessageStore.dll";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly string _queue = $"queue-{Guid.NewGuid():N}";
    private readonly string _state = Directory.CreateTempSubdirectory("messagestore-signatures-").FullName;

    private string Book => Path.Combine(_state, "signatures");

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task AnItemWhoseClientDiedBeforeTheReplyComesBackAsOursFromAClientThatDiedBeforeConfirming()
    {
        string service = TestEnvironment.UniqueServiceName("unanswering");
        (WebApplication app, UnansweringItemStore store) = await UnansweringItemStore.StartAsync(service);
        await using (app)
        {
            await using (SampleProcess sender = StartClientOf(service, "send", "stored, never answered"))
            {
                await store.Stored.WaitAsync(Timeout);
                await sender.KillAsync(); // the server has the item; the client never heard so
            }

            await using SampleProcess retriever = StartClientOf(service, "retrieve");
            Assert.True(await retriever.WaitForExitAsync(Timeout) == 0, retriever.ToString());
            Assert.Contains("(22 bytes): verified; stored by a client that died before it confirmed the store, text: stored, never answered", retriever.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnItemStoredBySomeoneElseIsNotOurs()
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(fixture.ServiceName);
        await new ItemStore.ItemStoreClient(channel).StoreAsync(_queue, ByteString.CopyFromUtf8("a stranger's"), DateTime.UtcNow.Add(Timeout));

        await using SampleProcess retriever = StartClientOf(fixture.ServiceName, "retrieve");

        Assert.True(await retriever.WaitForExitAsync(Timeout) == 1, retriever.ToString());
        Assert.Contains("(12 bytes): not ours (no signature kept for it here: stored by someone else, or forged)", retriever.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnItemThatDisappearedFromTheQueueIsNoticedByTheNextOneSequenceNumber()
    {
        foreach (string item in new[] { "one", "two" })
        {
            await using SampleProcess sender = StartClientOf(fixture.ServiceName, "send", item);
            Assert.True(await sender.WaitForExitAsync(Timeout) == 0, sender.ToString());
        }

        // Someone else takes "one" out of the queue for good: the book still expects it.
        using GrpcChannel channel = MachGrpcChannel.ForService(fixture.ServiceName);
        var thief = new ItemStore.ItemStoreClient(channel);
        RetrievedItem taken = await thief.RetrieveAsync(_queue, DateTime.UtcNow.Add(Timeout));
        Assert.Equal("one", taken.Data.ToStringUtf8());
        await thief.ConfirmAsync(new ConfirmRequest { Queue = _queue, Id = taken.Id }, deadline: DateTime.UtcNow.Add(Timeout));

        await using SampleProcess retriever = StartClientOf(fixture.ServiceName, "retrieve");

        Assert.True(await retriever.WaitForExitAsync(Timeout) == 0, retriever.ToString());
        Assert.Contains($"note: 1 item(s) stored here in queue '{_queue}' before this one (number 1; this one is number 2) have not come back: missing, or out of order", retriever.Output, StringComparison.Ordinal);
        Assert.Contains("(3 bytes): verified, text: two", retriever.Output, StringComparison.Ordinal);
    }

    [ProcFact]
    public async Task TheBookIsTheUsersAloneAndForgetsASignatureOnceUsed()
    {
        await using (SampleProcess sender = StartClientOf(fixture.ServiceName, "send", "private"))
        {
            Assert.True(await sender.WaitForExitAsync(Timeout) == 0, sender.ToString());
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Book));
        Assert.Single(await File.ReadAllLinesAsync(Book), line => line.StartsWith("item ", StringComparison.Ordinal) && line.Contains(" 1 1 ", StringComparison.Ordinal)); // number 1, stored

        await using (SampleProcess retriever = StartClientOf(fixture.ServiceName, "retrieve"))
        {
            Assert.True(await retriever.WaitForExitAsync(Timeout) == 0, retriever.ToString());
        }

        Assert.DoesNotContain(await File.ReadAllLinesAsync(Book), line => line.StartsWith("item ", StringComparison.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Book));
    }

    private SampleProcess StartClientOf(string service, params string[] command) =>
        SampleProcess.Start(Sample, ["client", "--service", service, "--queue", _queue, "--state", _state, .. command]);
}
