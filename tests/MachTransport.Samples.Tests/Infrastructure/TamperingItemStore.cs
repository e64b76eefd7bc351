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

    public override Task<StoreReply> Store(StoreRequest request, ServerCallContext context)
    {
        string id = Guid.NewGuid().ToString("N");
        _items.Enqueue((id, request.Data.ToByteArray(), request.ClientRef));
        return Task.FromResult(new StoreReply { Id = id });
    }

    public override Task<RetrieveReply> Retrieve(RetrieveRequest request, ServerCallContext context)
    {
        if (!_items.TryDequeue(out (string Id, byte[] Data, string ClientRef) item))
        {
            return Task.FromResult(new RetrieveReply { Empty = true });
        }

        item.Data[item.Data.Length / 2] ^= 0x01;
        return Task.FromResult(new RetrieveReply { Id = item.Id, Data = Google.Protobuf.ByteString.CopyFrom(item.Data), ClientRef = item.ClientRef });
    }
}
