using Google.Protobuf;
using Grpc.Core;
using MessageStore.Protos;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>What the stand-in stores do with the streams of a Store and a Retrieve: the whole item in memory (they are small).</summary>
internal static class StandInStore
{
    /// <summary>The first message of a Store, and every byte of the item.</summary>
    public static async Task<(StoreRequest First, byte[] Data)> ReadItemAsync(IAsyncStreamReader<StoreRequest> requests, ServerCallContext context)
    {
        StoreRequest? first = null;
        using var data = new MemoryStream();
        while (await requests.MoveNext(context.CancellationToken))
        {
            first ??= requests.Current;
            data.Write(requests.Current.Data.Span);
        }

        return (first ?? new StoreRequest(), data.ToArray());
    }

    /// <summary>An item as the sample's server sends it: a first message that says what comes, then its bytes in chunks.</summary>
    public static async Task SendItemAsync(IServerStreamWriter<RetrieveReply> responses, string id, ReadOnlyMemory<byte> data, string clientRef)
    {
        await responses.WriteAsync(new RetrieveReply { Id = id, Length = data.Length, ClientRef = clientRef, LeaseSeconds = 60 });
        for (int offset = 0; offset < data.Length; offset += StoreCalls.ChunkBytes)
        {
            await responses.WriteAsync(new RetrieveReply { Data = UnsafeByteOperations.UnsafeWrap(data.Slice(offset, Math.Min(StoreCalls.ChunkBytes, data.Length - offset))) });
        }
    }
}
