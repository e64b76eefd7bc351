// Every client connection of a process shares one receive loop. It logged to whichever client connected last (with a
// logger): a failure of one handler's connection landed in another handler's log, possibly one already disposed. Now
// what concerns a connection goes to the log of the factory that made it; what belongs to no connection goes to the
// "Microsoft-Extensions-Logging" EventSource under one category (issue 18 item 6).
using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Infrastructure;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

[Trait("Category", "Telemetry")]
public sealed class ClientLogRoutingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AFailureOfTheFirstHandlersConnectionIsLoggedToTheFirstHandlersFactory()
    {
        await using TransportHost host = await TransportHost.StartAsync("log-routing");
        string service = host.Service + ".h1";
        var firstLog = new FakeLogCollector();
        var secondLog = new FakeLogCollector();

        // The first connection's memory fails once the loop thread writes what arrives: its handler throws there.
        ChannelSettings first = ChannelSettings.From(
            new MachConnectionLimits(), new FakeLogger(firstLog, "MachTransport.Client"), MachTransportMetrics.Client, new FailsOnClientLoop());
        MachChannel failing = await MachClientConnector.ConnectAsync(service, first, Bound, CancellationToken.None).WaitAsync(Bound);
        try
        {
            // A second handler with its own logger factory connects after it: the latest client with a logger.
            using ILoggerFactory secondFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(secondLog)));
            using var second = new HttpClient(MachHttpHandler.Create(service, new MachClientOptions { LoggerFactory = secondFactory }))
            {
                BaseAddress = new Uri("http://localhost"),
            };
            Assert.Equal("hello HTTP/1.1", await second.GetStringAsync("/hello").WaitAsync(Bound));

            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using CancellationTokenRegistration onClosed = failing.Closed.Register(closed.SetResult);
            await failing.Output.WriteAsync("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());

            // The loop logs the failure before it tells the handler, which closes the connection.
            await closed.Task.WaitAsync(Bound);
        }
        finally
        {
            await failing.DisposeAsync();
        }

        Assert.Contains(firstLog.GetSnapshot(), r => r.Id.Name == "HandlerFailed" && r.Exception is InvalidOperationException);
        Assert.DoesNotContain(secondLog.GetSnapshot(), r => r.Id.Name == "HandlerFailed");
    }

    [Fact]
    public async Task AMessageNoClientConnectionOwnsIsLoggedToTheEventSource()
    {
        using var listener = new ClientLoopEvents();
        MachReceiveLoop loop = MachReceiveLoop.Client;
        using MachReceiveRight port = MachReceiveRight.Allocate(Kernel);
        loop.Register(port, new NoHandler());
        loop.Unregister(port); // still in the loop's set until destroyed: what arrives now has no owner

        Assert.Equal(MachMsgReturn.Success, Send(port.Name, MachMsgTypeName.MakeSend, 0x5151));

        string message = await listener.UnroutedMessage.WaitAsync(Bound);
        Assert.Contains($"port {port.Name:x}", message, StringComparison.Ordinal);
    }

    /// <summary>A pool whose rentals fail on the client receive loop's thread only (the application's writes still get memory).</summary>
    private sealed class FailsOnClientLoop : MemoryPool<byte>
    {
        public override int MaxBufferSize => Shared.MaxBufferSize;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
            => Thread.CurrentThread.Name == "Mach receive (client)"
                ? throw new InvalidOperationException("no memory for what arrived")
                : Shared.Rent(minBufferSize);

        protected override void Dispose(bool disposing)
        {
        }
    }

    private sealed class NoHandler : IMachPortHandler
    {
        public void OnMessage(in Mach.Messages.MachMessageReader message) => throw new InvalidOperationException("unregistered: never called");

        public void OnDeadName(uint deadName) => throw new InvalidOperationException("never watched");

        public void OnFailed(Exception error)
        {
        }
    }

    /// <summary>Listens to the logging EventSource for the client loop's category; completes with the first UnroutedMessage.</summary>
    private sealed class ClientLoopEvents : EventListener
    {
        private readonly TaskCompletionSource<string> _unrouted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<EventSource> _early = new();
        private readonly bool _constructed;

        public ClientLoopEvents()
        {
            _constructed = true;
            while (_early.TryDequeue(out EventSource? source))
            {
                Enable(source);
            }
        }

        public Task<string> UnroutedMessage => _unrouted.Task;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name != "Microsoft-Extensions-Logging")
            {
                return;
            }

            // Called from the base constructor for sources that exist already, before this class's fields are set.
            if (_constructed)
            {
                Enable(eventSource);
            }
            else
            {
                _early.Enqueue(eventSource);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == "FormattedMessage"
                && eventData.Payload is { } payload
                && eventData.PayloadNames is { } names
                && payload[names.IndexOf("LoggerName")] as string == MachReceiveLoop.ClientLoopCategory
                && payload[names.IndexOf("EventName")] as string == "UnroutedMessage")
            {
                _unrouted.TrySetResult(payload[names.IndexOf("FormattedMessage")] as string ?? string.Empty);
            }
        }

        private void Enable(EventSource source) => EnableEvents(source, EventLevel.Verbose, (EventKeywords)4 /* FormattedMessage */, new Dictionary<string, string?>
        {
            ["FilterSpecs"] = MachReceiveLoop.ClientLoopCategory + ":Debug",
        });
    }
}
