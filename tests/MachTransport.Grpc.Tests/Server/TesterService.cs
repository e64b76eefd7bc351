using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using MachTransport.Grpc.Tests.Protos;

namespace MachTransport.Grpc.Tests.Server;

/// <summary>The Tester service (see Protos/test.proto for what each method does).</summary>
internal sealed class TesterService : Tester.TesterBase
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource<string>> Outcomes = new(StringComparer.Ordinal);

    public override async Task<EchoReply> Echo(EchoRequest request, ServerCallContext context)
    {
        var headers = new Metadata();
        if (context.RequestHeaders.GetValue("x-echo") is string echo)
        {
            headers.Add("x-echo", echo);
            context.ResponseTrailers.Add("x-echo-trailer", echo);
        }

        if (context.RequestHeaders.GetValueBytes("x-echo-bin") is byte[] echoBytes)
        {
            context.ResponseTrailers.Add("x-echo-bin", echoBytes);
        }

        if (request.CompressResponse)
        {
            headers.Add("grpc-internal-encoding-request", "gzip"); // grpc-dotnet: compress this call's response
        }

        await context.WriteResponseHeadersAsync(headers);
        return await Tracked(request.Tag, context, async () =>
        {
            if (request.DelayMs > 0)
            {
                await Task.Delay(request.DelayMs, context.CancellationToken);
            }

            if (request.Message == "throw")
            {
                throw new InvalidOperationException("a handler bug");
            }

            if (request.StatusCode != 0)
            {
                throw new RpcException(new Status((StatusCode)request.StatusCode, request.StatusDetail), new Metadata
                {
                    { "x-error", "details" },
                    { "x-error-bin", new byte[] { 1, 2, 3 } },
                });
            }

            return new EchoReply
            {
                Message = request.Message,
                Payload = request.Payload,
                DeadlineMs = DeadlineMilliseconds(context),
                // grpc-dotnet keeps its protocol headers out of RequestHeaders: read them from the HTTP request.
                RequestEncoding = context.GetHttpContext().Request.Headers["grpc-encoding"].ToString(),
                PreviousAttempts = int.Parse(context.GetHttpContext().Request.Headers["grpc-previous-rpc-attempts"].FirstOrDefault() ?? "0", CultureInfo.InvariantCulture),
            };
        });
    }

    public override Task Countdown(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) =>
        Tracked(request.Tag, context, async () =>
        {
            for (int i = 1; i <= request.Count; i++)
            {
                if (request.DelayMs > 0)
                {
                    await Task.Delay(request.DelayMs, context.CancellationToken);
                }

                await responseStream.WriteAsync(new EchoReply { Message = $"{request.Message} {i}" });
            }

            if (request.StatusCode != 0)
            {
                throw new RpcException(new Status((StatusCode)request.StatusCode, request.StatusDetail));
            }

            return true;
        });

    public override async Task<Number> Sum(IAsyncStreamReader<Number> requestStream, ServerCallContext context)
    {
        long sum = 0;
        await foreach (Number number in requestStream.ReadAllAsync(context.CancellationToken))
        {
            sum += number.Value;
        }

        return new Number { Value = sum };
    }

    public override async Task Chat(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        await foreach (EchoRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new EchoReply { Message = $"re: {request.Message}" });
        }
    }

    public override async Task<EchoReply> Observe(EchoRequest request, ServerCallContext context)
    {
        string outcome = await Outcome(request.Message).Task.WaitAsync(TimeSpan.FromSeconds(10), context.CancellationToken);
        return new EchoReply { Message = outcome };
    }

    private static async Task<T> Tracked<T>(string tag, ServerCallContext context, Func<Task<T>> body)
    {
        try
        {
            return await body();
        }
        finally
        {
            if (tag.Length > 0)
            {
                Outcome(tag).TrySetResult(context.CancellationToken.IsCancellationRequested ? "cancelled" : "completed");
            }
        }
    }

    private static TaskCompletionSource<string> Outcome(string tag) =>
        Outcomes.GetOrAdd(tag, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));

    private static long DeadlineMilliseconds(ServerCallContext context) =>
        context.Deadline == DateTime.MaxValue ? -1 : (long)(context.Deadline - DateTime.UtcNow).TotalMilliseconds;
}
