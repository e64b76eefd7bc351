using System.Collections.Concurrent;
using Grpc.Core;
using MessageStore.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>A stand-in ItemStore server, in the test process, that flips one byte of every item it hands back.</summary>
internal sealed class TamperingItemStore : ItemStore.ItemStoreBase
{
    private readonly ConcurrentQueue<(string Id, byte[] Data, string ClientRef)> _items = new();

    /// <summary>Serves on <paramref name="serviceName"/> until disposed.</summary>
    public static async Task<WebApplication> StartAsync(string serviceName)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(serviceName));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<TamperingItemStore>();
        WebApplication app = builder.Build();
        app.MapGrpcService<TamperingItemStore>();
        await app.StartAsync();
        return app;
    }

    public override async Task<StoreReply> Store(IAsyncStreamReader<StoreRequest> requestStream, ServerCallContext context)
    {
        (StoreRequest first, byte[] data) = await StandInStore.ReadItemAsync(requestStream, context);
        string id = Guid.NewGuid().ToString("N");
        _items.Enqueue((id, data, first.ClientRef));
        return new StoreReply { Id = id };
    }

    public override async Task Retrieve(RetrieveRequest request, IServerStreamWriter<RetrieveReply> responseStream, ServerCallContext context)
    {
        if (!_items.TryDequeue(out (string Id, byte[] Data, string ClientRef) item))
        {
            await responseStream.WriteAsync(new RetrieveReply { Empty = true });
            return;
        }

        item.Data[item.Data.Length / 2] ^= 0x01;
        await StandInStore.SendItemAsync(responseStream, item.Id, item.Data, item.ClientRef);
    }
}
