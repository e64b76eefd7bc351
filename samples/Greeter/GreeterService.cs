using Greet;
using MachTransport.Grpc;

namespace Greeter;

/// <summary>The Greeter service: one greeting, or a stream of them.</summary>
internal sealed class GreeterService : Greet.Greeter.GreeterBase
{
    private const int StreamedGreetings = 3;

    public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context) =>
        Task.FromResult(new HelloReply { Message = $"Hello {request.Name}" });

    public override async Task SayHellos(HelloRequest request, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
    {
        for (int i = 1; i <= StreamedGreetings; i++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            await responseStream.WriteAsync(new HelloReply { Message = $"Hello {request.Name} #{i}" });
        }
    }
}
