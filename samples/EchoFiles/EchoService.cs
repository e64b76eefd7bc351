using EchoFiles.Protos;
using Grpc.Core;
using MachTransport.Samples;
using Microsoft.Extensions.Logging;

namespace EchoFiles;

/// <summary>The Echoer service: each message is recorded in the caller's file, then echoed back unchanged.</summary>
internal sealed partial class EchoService(EchoFolder folder, ClientProcesses clients, ILogger<EchoService> logger) : Echoer.EchoerBase
{
    public const int MaxMessageBytes = 1024;

    // Any client can send oversized messages as fast as it likes: the first few refusals are logged, the rest counted.
    private static readonly LogBudget RefusalLog = new(linesPerWindow: 5, window: TimeSpan.FromSeconds(10));

    public override async Task Echo(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
    {
        // The file is named after the pid the kernel reports for the connection, never after anything the client says;
        // the process's start time, read when the connection was admitted, tells it from a later process with its pid.
        ClientProcess client = clients.Of(context.GetHttpContext().Connection.Id)
            ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, "EchoFiles serves Mach clients only: it needs the caller's kernel-verified pid."));
        int pid = client.Pid;

        // Each call waits only on its own client: a client that stops reading its echoes stalls its own call alone.
        await foreach (EchoMessage message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (message.Data.Length > MaxMessageBytes)
            {
                if (RefusalLog.TryTake(out long notLogged))
                {
                    LogRefused(pid, message.Data.Length, notLogged);
                }

                throw new RpcException(new Status(StatusCode.InvalidArgument, $"A message may carry at most {MaxMessageBytes} bytes; this one carried {message.Data.Length}."));
            }

            folder.Record(client, message.Data.Span);
            await responseStream.WriteAsync(message, context.CancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: refused a message of {Bytes} bytes (more than 1024); {NotLogged} refusals before this one were not logged")]
    private partial void LogRefused(int pid, int bytes, long notLogged);
}
