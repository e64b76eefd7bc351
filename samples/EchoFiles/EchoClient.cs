using EchoFiles.Protos;
using Google.Protobuf;
using Grpc.Core;

namespace EchoFiles;

/// <summary>The client part: sends messages on one Echo call and checks that each comes back identical.</summary>
internal static class EchoClient
{
    /// <summary>How long a client's call may take unless told otherwise (<c>--deadline</c>).</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Sends each of <paramref name="messages"/> in turn, all within <paramref name="deadline"/>; true when every echo was
    /// identical. Says how it went on stdout.
    /// </summary>
    public static async Task<bool> SendAsync(Echoer.EchoerClient client, IEnumerable<byte[]> messages, TimeSpan deadline)
    {
        using AsyncDuplexStreamingCall<EchoMessage, EchoMessage> call = client.Echo(deadline: DateTime.UtcNow + deadline);
        try
        {
            foreach (byte[] data in messages)
            {
                await call.RequestStream.WriteAsync(new EchoMessage { Data = ByteString.CopyFrom(data) });
                if (!await call.ResponseStream.MoveNext())
                {
                    Console.WriteLine("no echo: the server ended the call");
                    return false;
                }

                bool identical = call.ResponseStream.Current.Data.Span.SequenceEqual(data);
                Console.WriteLine(identical ? $"echo identical ({data.Length} bytes)" : $"echo differs ({data.Length} bytes sent, {call.ResponseStream.Current.Data.Length} received)");
                if (!identical)
                {
                    return false;
                }
            }

            await call.RequestStream.CompleteAsync();
            return !await call.ResponseStream.MoveNext(); // a clean end: OK status, nothing more
        }
        catch (RpcException e)
        {
            Console.WriteLine($"refused: {e.StatusCode}: {e.Status.Detail}");
            return false;
        }
    }
}
