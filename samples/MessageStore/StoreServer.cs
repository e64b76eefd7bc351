using MachTransport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>The server part, beside the lines in Program.cs that put it on Mach: the ItemStore service, within <see cref="StoreLimits"/>, taking items of up to 64 MiB in messages of up to a chunk, from clients that may be slow to start.</summary>
internal static partial class StoreServer
{
    /// <summary>Connection middleware: a connection that ends (closed, or its client killed) returns the items leased to it to their queues.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> ReturnLeasesWhenConnectionsEnd(ListenOptions listen) => next => async connection =>
    {
        try
        {
            await next(connection);
        }
        finally
        {
            listen.ApplicationServices.GetRequiredService<ItemQueues>().ReturnLeasesOf(connection.ConnectionId);
        }
    };

    /// <summary>The store's services, and Kestrel's limits raised to take its largest items.</summary>
    public static void AddItemStore(WebApplicationBuilder builder, StoreLimits limits, string dataDirectory)
    {
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = ItemStoreService.ChunkBytes + ItemStoreService.MaxMessageOverhead);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Kestrel's own default is 30 MB. A whole item with the framing of its messages: room for chunks far
            // smaller than the sample's own (each message costs a few bytes of framing).
            kestrel.Limits.MaxRequestBodySize = 2L * ItemStoreService.MaxItemBytes;

            // A client starting on a busy machine can take seconds to produce the first bytes of a large item (gRPC
            // serializes it after the headers have gone out); Kestrel's default, 240 B/s after a 5 s grace, aborts it.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(30));
        });
        builder.Services.AddSingleton(limits);
        builder.Services.AddSingleton(_ => new ItemDatabase(dataDirectory));
        builder.Services.AddSingleton(ChunkWriteHook.FromEnvironment());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ItemQueues>();
    }

    /// <summary>The ItemStore service, and a log line for each call its client cut off.</summary>
    public static void MapItemStore(WebApplication app)
    {
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StoreServer).FullName!);
        (int items, long bytes) = app.Services.GetRequiredService<ItemQueues>().Totals;
        ItemDatabase database = app.Services.GetRequiredService<ItemDatabase>();
        LogKept(logger, items, bytes, database.Path);
        if (database.Discarded is { Items: > 0 } discarded)
        {
            LogDiscarded(logger, discarded.Items, discarded.Bytes);
        }

        app.Use(async (HttpContext context, RequestDelegate next) =>
        {
            await next(context);
            if (context.RequestAborted.IsCancellationRequested)
            {
                // A call whose client went away (crashed, killed) before it completed: if it was a Store, nothing was stored.
                LogCutOff(logger, context.Features.Get<IMachPeerCredentialsFeature>()?.Credentials.Pid ?? 0, context.Request.Path);
            }
        });
        app.MapGrpcService<ItemStoreService>();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Items} items ({Bytes} bytes) kept from before, in {Path}")]
    private static partial void LogKept(ILogger logger, int items, long bytes, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Items} items a store had not finished when the last run ended (a crash, or a kill) were discarded: {Bytes} bytes of their chunks deleted")]
    private static partial void LogDiscarded(ILogger logger, long items, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: call {Path} cut off by the client before it completed")]
    private static partial void LogCutOff(ILogger logger, int pid, PathString path);
}
