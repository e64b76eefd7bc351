using System.Buffers.Binary;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MessageStore.Protos;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>
/// Clients caught at a point of a retrieval, for the tests to SIGKILL there: "half-read" has read half of the reply
/// of a large item (the rest still on its way), "unconfirmed" has the whole item and has not confirmed it. Each says
/// where it stands on stdout ("HALF READ", "RECEIVED ID"), then waits for its stdin to end.
/// </summary>
internal static class InterruptedRetrieve
{
    public static async Task<int> HalfReadAsync(string serviceName, string queue)
    {
        using var http = new HttpClient(MachHttpHandler.Create(serviceName));
        using HttpRequestMessage call = PartialStore.CallWith("Retrieve", new ByteArrayContent(PartialStore.Frame(new RetrieveRequest { Queue = queue })));
        using HttpResponseMessage response = await http.SendAsync(call, HttpCompletionOption.ResponseHeadersRead);
        await using Stream body = await response.Content.ReadAsStreamAsync();
        byte[] buffer = new byte[64 * 1024];
        await body.ReadExactlyAsync(buffer.AsMemory(0, 5));
        int headLength = (int)BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(1)); // the first message's length, after its compression flag
        await body.ReadExactlyAsync(buffer.AsMemory(0, headLength));
        long half = RetrieveReply.Parser.ParseFrom(buffer, 0, headLength).Length / 2; // then the item's chunks, in messages of their own
        for (long read = 0; read < half;)
        {
            int n = await body.ReadAsync(buffer);
            if (n == 0)
            {
                Console.WriteLine($"ENDED after {read} bytes");
                return 1;
            }

            read += n;
        }

        Console.WriteLine("HALF READ");
        await Console.In.ReadToEndAsync();
        return 0;
    }

    public static async Task<int> UnconfirmedAsync(string serviceName, string queue)
    {
        using GrpcChannel channel = MachGrpcChannel.ForService(serviceName, new GrpcChannelOptions { MaxReceiveMessageSize = null });
        RetrievedItem reply = await new ItemStore.ItemStoreClient(channel).RetrieveAsync(queue, DateTime.UtcNow.AddMinutes(2));
        Console.WriteLine(reply.Empty ? "EMPTY" : $"RECEIVED {reply.Id}");
        await Console.In.ReadToEndAsync();
        return 0;
    }
}
