using Google.Protobuf;
using Grpc.Core;
using MessageStore.Protos;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>An item as a test retrieved it: the first reply of the Retrieve, and the bytes of those after it.</summary>
internal sealed record RetrievedItem(bool Empty, string Id, ByteString Data, int LeaseSeconds, string ClientRef);

/// <summary>The ItemStore's streaming calls made as the sample's client makes them (chunks of 1 MiB), for tests that talk to a store directly.</summary>
internal static class StoreCalls
{
    public const int ChunkBytes = 1024 * 1024;

    /// <summary>Stores <paramref name="data"/> in <paramref name="queue"/>; an <see cref="RpcException"/> with the server's status when it refuses.</summary>
    public static async Task<StoreReply> StoreAsync(this ItemStore.ItemStoreClient client, string queue, ByteString data, DateTime deadline, string clientRef = "")
    {
        using AsyncClientStreamingCall<StoreRequest, StoreReply> call = client.Store(deadline: deadline);
        for (int offset = 0; ; offset += ChunkBytes)
        {
            StoreRequest request = offset == 0 ? new StoreRequest { Queue = queue, ClientRef = clientRef, Length = data.Length } : new StoreRequest();
            request.Data = UnsafeByteOperations.UnsafeWrap(data.Memory.Slice(offset, Math.Min(ChunkBytes, data.Length - offset)));
            try
            {
                // Bounded beyond the call's deadline: a write stuck waiting for HTTP/2 window fails this test, not the run.
                TimeSpan bound = deadline - DateTime.UtcNow + TimeSpan.FromSeconds(10);
                await call.RequestStream.WriteAsync(request).WaitAsync(bound > TimeSpan.Zero ? bound : TimeSpan.Zero);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or RpcException)
            {
                return await call.ResponseAsync; // refused: the call's status
            }

            if (offset + ChunkBytes >= data.Length)
            {
                break;
            }
        }

        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }

    /// <summary>Takes the oldest item of <paramref name="queue"/> on lease, all its chunks read.</summary>
    public static async Task<RetrievedItem> RetrieveAsync(this ItemStore.ItemStoreClient client, string queue, DateTime deadline)
    {
        using AsyncServerStreamingCall<RetrieveReply> call = client.Retrieve(new RetrieveRequest { Queue = queue }, deadline: deadline);
        if (!await call.ResponseStream.MoveNext())
        {
            throw new InvalidOperationException("The Retrieve ended without a reply.");
        }

        RetrieveReply head = call.ResponseStream.Current;
        using var data = new MemoryStream();
        while (await call.ResponseStream.MoveNext())
        {
            data.Write(call.ResponseStream.Current.Data.Span);
        }

        if (!head.Empty && data.Length != head.Length)
        {
            throw new InvalidOperationException($"Item {head.Id} came with {data.Length} of the {head.Length} bytes announced.");
        }

        return new RetrievedItem(head.Empty, head.Id, ByteString.CopyFrom(data.GetBuffer(), 0, (int)data.Length), head.LeaseSeconds, head.ClientRef);
    }
}
