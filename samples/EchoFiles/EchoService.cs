using EchoFiles.Protos;
using Grpc.Core;
using MachTransport.Grpc;

namespace EchoFiles;

/// <summary>The Echoer service: each message is recorded in the caller's file, then echoed back unchanged.</summary>
internal sealed class EchoService(EchoFolder folder) : Echoer.EchoerBase
{
    public const int MaxMessageBytes = 1024;

    public override async Task Echo(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
    {
        // The file is named after the pid the kernel reports for the connection, never after anything the client says.
        int pid = context.GetMachPeer()?.Pid
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, "EchoFiles serves Mach clients only: it needs the caller's kernel-verified pid."));

        // Each call waits only on its own client: a client that stops reading its echoes stalls its own call alone.
        await foreach (EchoMessage message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (message.Data.Length > MaxMessageBytes)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"A message may carry at most {MaxMessageBytes} bytes; this one carried {message.Data.Length}."));
            }

            folder.Record(pid, message.Data.Span);
            await responseStream.WriteAsync(message, context.CancellationToken);
        }
    }
}
