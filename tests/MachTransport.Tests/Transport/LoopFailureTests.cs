// A listener whose receive loop stops unexpectedly (the loop logs it at Error) hears nothing on its connections any
// more. Kestrel's processing of each then waited for input forever: a connection whose application awaits the request
// never ended. Now the loop fails its connections, and Kestrel ends them as aborted.
using System.Buffers;
using System.Net;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using MachTransport.Server;
using MachTransport.Tests.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

[Trait("Category", "Hostile")]
public sealed class LoopFailureTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [LinuxFact]
    public async Task TheConnectionsOfAListenerWhoseReceiveLoopStopsEndAsAborted()
    {
        var kernel = new HookedKernel(MachKernel.Current);
        var logs = new FakeLogCollector();
        string service = TestEnvironment.UniqueServiceName("loop-stops");
        int waiting = 0;
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        builder.WebHost.UseMachTransport();
        builder.Services.AddSingleton<IConnectionListenerFactory>(new HookedListenerFactory(kernel, new FakeLogger(logs, "MachTransport.Server")));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(service));
        await using WebApplication app = builder.Build();
        app.MapGet("/hang", async (HttpContext context) =>
        {
            Interlocked.Increment(ref waiting);
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref waiting);
            }
        });
        await app.StartAsync().WaitAsync(Bound);

        var clients = new List<MachChannel>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                MachChannel client = await MachClientConnector.ConnectAsync(service, new MachClientOptions(), CancellationToken.None).WaitAsync(Bound);
                clients.Add(client);
                await client.Output.WriteAsync(Http2Bytes.Get("/hang"));
            }

            await Eventually.HoldsAsync(() => Volatile.Read(ref waiting) == 3, Bound, () => "the requests never reached the application");

            // The loop's next receive fails; a message on the service port makes it receive again.
            kernel.FailNextReceive(MachMsgReturn.ReceiveInvalidData);
            using (MachSendRight port = MachBootstrap.LookUp(MachKernel.Current, service))
            {
                Assert.Equal(MachMsgReturn.Success, Send(port.Name, MachMsgTypeName.CopySend, 0x1234, timeoutMilliseconds: 10_000));
            }

            await Eventually.HoldsAsync(() => logs.GetSnapshot().Any(r => r.Id.Name == "ReceiveLoopFailed"), Bound, () => "the receive loop did not stop");
            await Eventually.HoldsAsync(() => Volatile.Read(ref waiting) == 0, Bound, () => "the requests of the stopped loop's connections never ended");
        }
        finally
        {
            foreach (MachChannel client in clients)
            {
                await client.DisposeAsync();
            }
        }

        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Level == LogLevel.Critical);
    }

    /// <summary>Binds Mach endpoints as the transport does, on the test's kernel.</summary>
    private sealed class HookedListenerFactory(IMachKernel kernel, ILogger logger) : IConnectionListenerFactory, IConnectionListenerFactorySelector
    {
        public bool CanBind(EndPoint endpoint) => endpoint is MachEndPoint;

        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
            => ValueTask.FromResult<IConnectionListener>(MachConnectionListener.Bind(
                (MachEndPoint)endpoint, new MachTransportOptions(), logger, TestMetrics.Server, MemoryPool<byte>.Shared, kernel));
    }
}
