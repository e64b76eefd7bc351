using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using MachTransport.Grpc;
using MessageStore.Protos;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>
/// A client caught in the middle of storing a large item: it sends the request headers and half of the messages of a
/// 32 MiB Store (chunks of 1 MiB, the second half never sent), says "HALF SENT" and waits, to be killed by the test
/// (or to end with its stdin).
/// </summary>
internal static class PartialStore
{
    public const int ItemBytes = 32 * 1024 * 1024;

    public static async Task<int> RunAsync(string serviceName, string queue)
    {
        using var http = new HttpClient(MachHttpHandler.Create(serviceName));
        byte[] chunk = new byte[StoreCalls.ChunkBytes];
        var messages = new List<IMessage> { new StoreRequest { Queue = queue, Length = ItemBytes, Data = ByteString.CopyFrom(chunk) } };
        messages.AddRange(Enumerable.Range(1, (ItemBytes / chunk.Length) - 1).Select(_ => new StoreRequest { Data = ByteString.CopyFrom(chunk) }));
        var content = new HalfContent([.. messages.SelectMany(Frame)]);
        using HttpRequestMessage request = StoreRequestWith(content);

        Task<HttpResponseMessage> response = http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await Task.WhenAny(content.HalfSent, response);
        Console.WriteLine(content.HalfSent.IsCompleted ? "HALF SENT" : "FAILED");
        await Console.In.ReadToEndAsync();
        return 0;
    }

    /// <summary>A Store call as gRPC makes it, with a request body of the caller's making.</summary>
    public static HttpRequestMessage StoreRequestWith(HttpContent content) => CallWith("Store", content);

    /// <summary>A call of <paramref name="method"/> as gRPC makes it, with a request body of the caller's making.</summary>
    public static HttpRequestMessage CallWith(string method, HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(MachGrpcChannel.Address, "/messagestore.ItemStore/" + method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        return request;
    }

    /// <summary>The message in gRPC framing: not compressed, big-endian length, the message.</summary>
    public static byte[] Frame(IMessage store)
    {
        byte[] message = store.ToByteArray();
        byte[] frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    private sealed class HalfContent(byte[] frame) : HttpContent
    {
        private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task HalfSent => _halfSent.Task;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(frame.AsMemory(0, frame.Length / 2));
            await stream.FlushAsync();
            _halfSent.SetResult();
            await Task.Delay(Timeout.Infinite); // the rest never comes
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
