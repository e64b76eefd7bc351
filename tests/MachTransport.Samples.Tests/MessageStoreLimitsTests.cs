using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples.Tests.Infrastructure;
using MessageStore.Protos;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>Issue 20 items 2 and 4: MessageStore servers of their own, with small caps, a short lease, a short idle time for stores.</summary>
[Trait("Category", "Samples")]
public sealed class MessageStoreLimitsTests : IDisposable
{
    private const string Sample = "MessageStore.dll";
    private const int ItemBytes = 600 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly string _service = TestEnvironment.UniqueServiceName("messagestore-limits");
    private readonly string _state = Directory.CreateTempSubdirectory("messagestore-limits-").FullName;

    private static DateTime Deadline => DateTime.UtcNow.Add(Timeout);

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task ItemsBeyondTheCapOfTheirQueueOrOfTheStoreAreRefusedWithTheCapUntilSpaceIsFreed()
    {
        await using SampleProcess server = await SampleProcess.StartServerAsync(Sample, "--service", _service, "--data", _state, "--max-queue-mib", "1", "--max-total-mib", "2");
        using GrpcChannel channel = MachGrpcChannel.ForService(_service);
        var client = new ItemStore.ItemStoreClient(channel);
        ByteString item = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(ItemBytes));
        await client.StoreAsync("q1", item, Deadline);

        // The sample's client says why: the queue's cap.
        string file = Path.Combine(_state, "item.bin");
        await File.WriteAllBytesAsync(file, item.ToByteArray());
        await using SampleProcess refused = SampleProcess.Start(Sample, "client", "--service", _service, "--queue", "q1", "--state", _state, "send", "@" + file);
        Assert.True(await refused.WaitForExitAsync(Timeout) == 1, refused.ToString());
        Assert.Contains($"refused: Not stored: queue 'q1' is full: it holds {ItemBytes} bytes, its cap is 1048576; this item has {ItemBytes}.", refused.Output, StringComparison.Ordinal);

        // Two more queues fill the store (1.8 MiB of its 2); a fourth item is refused by the total cap.
        await client.StoreAsync("q2", item, Deadline);
        await client.StoreAsync("q3", item, Deadline);
        RpcException full = await Assert.ThrowsAsync<RpcException>(() => client.StoreAsync("q4", item, Deadline));
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        Assert.Equal($"Not stored: the store is full: it holds {3 * ItemBytes} bytes in all, its cap is 2097152; this item has {ItemBytes}.", full.Status.Detail);

        // A retrieved item still counts until it is confirmed; once it is, its space is free again.
        RetrievedItem taken = await client.RetrieveAsync("q1", Deadline);
        await Assert.ThrowsAsync<RpcException>(() => client.StoreAsync("q4", item, Deadline));
        await client.ConfirmAsync(new ConfirmRequest { Queue = "q1", Id = taken.Id }, deadline: Deadline);
        await client.StoreAsync("q4", item, Deadline);

        await server.WaitForErrorAsync(line => line.Contains("refused an item of 614400 bytes for queue 'q4': the store is full", StringComparison.Ordinal), Timeout);
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task ALeasedItemIsInvisibleToOthersUntilItsLeaseRunsOutThenComesBackFirst()
    {
        await using SampleProcess server = await SampleProcess.StartServerAsync(Sample, "--service", _service, "--data", _state, "--lease-seconds", "3");
        using GrpcChannel holderChannel = MachGrpcChannel.ForService(_service);
        using GrpcChannel otherChannel = MachGrpcChannel.ForService(_service);
        var holder = new ItemStore.ItemStoreClient(holderChannel);
        var other = new ItemStore.ItemStoreClient(otherChannel);
        string first = (await holder.StoreAsync("q", ByteString.CopyFromUtf8("first"), Deadline)).Id;
        string second = (await holder.StoreAsync("q", ByteString.CopyFromUtf8("second"), Deadline)).Id;

        RetrievedItem held = await holder.RetrieveAsync("q", Deadline);
        Assert.Equal((first, 3), (held.Id, held.LeaseSeconds));
        Assert.Equal(second, (await other.RetrieveAsync("q", Deadline)).Id);
        Assert.True((await other.RetrieveAsync("q", Deadline)).Empty);

        // The holder's connection stays open; only the lease's time returns the item, at the head of the queue.
        await server.WaitForErrorAsync(line => line.Contains($"item {first} back at the head of queue 'q': not confirmed within 3 s", StringComparison.Ordinal), Timeout);
        RetrievedItem again = await other.RetrieveAsync("q", Deadline);
        Assert.Equal((first, "first"), (again.Id, again.Data.ToStringUtf8()));
        RpcException late = await Assert.ThrowsAsync<RpcException>(() => holder.ConfirmAsync(new ConfirmRequest { Queue = "q", Id = first }, deadline: Deadline).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, late.StatusCode);
        await other.ConfirmAsync(new ConfirmRequest { Queue = "q", Id = first }, deadline: Deadline);

        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task AStoreThatStopsSendingIsGivenUpAfterTheIdleTimeAndItsSpaceFreed()
    {
        const int MiB = 1024 * 1024;
        await using SampleProcess server = await SampleProcess.StartServerAsync(Sample, "--service", _service, "--data", _state, "--max-queue-mib", "2", "--store-idle-seconds", "2");
        using GrpcChannel stalledChannel = MachGrpcChannel.ForService(_service);
        using GrpcChannel channel = MachGrpcChannel.ForService(_service);
        var client = new ItemStore.ItemStoreClient(channel);

        // Half of a 2 MiB item, then nothing: its space in the queue is taken meanwhile.
        using AsyncClientStreamingCall<StoreRequest, StoreReply> stalled = new ItemStore.ItemStoreClient(stalledChannel).Store(deadline: Deadline);
        await stalled.RequestStream.WriteAsync(new StoreRequest { Queue = "q", Length = 2 * MiB, Data = ByteString.CopyFrom(new byte[MiB]) });
        await server.WaitForErrorAsync(line => line.Contains($"receiving an item of {2 * MiB} bytes for queue 'q', its space taken", StringComparison.Ordinal), Timeout);
        RpcException full = await Assert.ThrowsAsync<RpcException>(() => client.StoreAsync("q", ByteString.CopyFromUtf8("x"), Deadline));
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);

        // Kestrel's minimum data rate, an average over the body, would let it hold the space for hours; the store gives up after 2 s.
        RpcException givenUp = await Assert.ThrowsAsync<RpcException>(() => stalled.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal((StatusCode.Aborted, $"Not stored: no bytes of the item for 2 s, after {MiB} of the {2 * MiB} announced."), (givenUp.StatusCode, givenUp.Status.Detail));
        await server.WaitForErrorAsync(line => line.Contains($"refused an item of {2 * MiB} bytes for queue 'q': no bytes of the item for 2 s", StringComparison.Ordinal), Timeout);
        ByteString whole = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(2 * MiB));
        string id = (await client.StoreAsync("q", whole, Deadline)).Id;
        RetrievedItem stored = await client.RetrieveAsync("q", Deadline);
        Assert.Equal(id, stored.Id);
        Assert.Equal(whole, stored.Data);
        Assert.Equal(0, await server.StopAsync());
    }

    [Theory]
    [InlineData("--store-idle-seconds", "0")]
    [InlineData("--max-queue-mib", "0")]
    [InlineData("--max-total-mib", "lots")]
    [InlineData("--lease-seconds", "-1")]
    public async Task ALimitThatIsNotAPositiveNumberIsRefused(string option, string value)
    {
        await using SampleProcess server = SampleProcess.Start(Sample, "serve", "--service", _service, option, value);

        Assert.True(await server.WaitForExitAsync(Timeout) == 2, server.ToString());
        Assert.Contains($"{option} takes a positive whole number", server.Error, StringComparison.Ordinal);
    }
}
