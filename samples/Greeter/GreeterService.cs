using Greet;
using Grpc.Core;
using MachTransport.Grpc;
using MachTransport;

namespace Greeter;

/// <summary>The Greeter service: one greeting, or a stream of them, each saying who called and how.</summary>
internal sealed class GreeterService : Greet.Greeter.GreeterBase
{
    private const int StreamedGreetings = 3;

    public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context) =>
        Task.FromResult(Reply($"Hello {request.Name}", context));

    public override async Task SayHellos(HelloRequest request, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
    {
        for (int i = 1; i <= StreamedGreetings; i++)
        {
            await responseStream.WriteAsync(Reply($"Hello {request.Name} #{i}", context), context.CancellationToken);
        }
    }

    private static HelloReply Reply(string message, ServerCallContext context)
    {
        MachPeerCredentials? peer = context.GetMachPeer();
        return new HelloReply { Message = message, ClientPid = peer?.Pid ?? 0, Transport = peer is null ? "TCP" : "Mach" };
    }
}
