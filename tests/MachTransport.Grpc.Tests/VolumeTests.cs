using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>Large messages and many calls at once over one Mach channel.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class VolumeTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(60);

    [Fact]
    public async Task A16MiBMessageTravelsEachWayIntact()
    {
        using GrpcChannel channel = server.CreateMachChannel(new GrpcChannelOptions { MaxReceiveMessageSize = 32 * 1024 * 1024 });
        var client = new Tester.TesterClient(channel);
        byte[] payload = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);

        EchoReply reply = await client.EchoAsync(new EchoRequest { Message = "bulk", Payload = ByteString.CopyFrom(payload) }, deadline: Deadline);

        Assert.Equal(payload.Length, reply.Payload.Length);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(reply.Payload.Span));
    }

    [Fact]
    public async Task TwoHundredConcurrentUnaryCallsEachGetTheirOwnReply()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);

        EchoReply[] replies = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            client.EchoAsync(new EchoRequest { Message = $"call {i}", Payload = ByteString.CopyFrom(new byte[i * 100]) }, deadline: Deadline).ResponseAsync));

        for (int i = 0; i < replies.Length; i++)
        {
            Assert.Equal($"call {i}", replies[i].Message);
            Assert.Equal(i * 100, replies[i].Payload.Length);
        }
    }

    [Fact]
    public async Task TwentyConcurrentDuplexStreamsKeepTheirMessagesApart()
    {
        using GrpcChannel channel = server.CreateMachChannel();
        var client = new Tester.TesterClient(channel);
        const int Streams = 20, MessagesPerStream = 50;

        string[][] transcripts = await Task.WhenAll(Enumerable.Range(0, Streams).Select(async stream =>
        {
            using AsyncDuplexStreamingCall<EchoRequest, EchoReply> call = client.Chat(deadline: Deadline);
            var received = new List<string>();
            Task reading = Task.Run(async () =>
            {
                await foreach (EchoReply reply in call.ResponseStream.ReadAllAsync())
                {
                    received.Add(reply.Message);
                }
            });
            for (int i = 0; i < MessagesPerStream; i++)
            {
                await call.RequestStream.WriteAsync(new EchoRequest { Message = $"{stream}.{i}" });
            }

            await call.RequestStream.CompleteAsync();
            await reading;
            Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
            return received.ToArray();
        }));

        for (int stream = 0; stream < Streams; stream++)
        {
            Assert.Equal(Enumerable.Range(0, MessagesPerStream).Select(i => $"re: {stream}.{i}"), transcripts[stream]);
        }
    }
}
