using System.Collections.Concurrent;
using Grpc.Core;
using MessageStore.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Samples.Tests.Infrastructure;

/// <summary>
/// A stand-in ItemStore server, in the test process, that keeps each item it is sent and never answers the Store:
/// the storing client waits for a reply that does not come, so a test can kill it after its item is stored and
/// before it hears so. Retrieve and Confirm work as the sample's do (without leases).
/// </summary>
internal sealed class UnansweringItemStore : ItemStore.ItemStoreBase
{
    private readonly ConcurrentQueue<(string Id, (StoreRequest First, byte[] Data) Item)> _items = new();
    private readonly TaskCompletionSource _stored = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when an item has been stored.</summary>
    public Task Stored => _stored.Task;

    /// <summary>Serves on <paramref name="serviceName"/> until disposed.</summary>
    public static async Task<(WebApplication App, UnansweringItemStore Store)> StartAsync(string serviceName)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseMachTransport();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(serviceName));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<UnansweringItemStore>();
        WebApplication app = builder.Build();
        app.MapGrpcService<UnansweringItemStore>();
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<UnansweringItemStore>());
    }

    public override async Task<StoreReply> Store(IAsyncStreamReader<StoreRequest> requestStream, ServerCallContext context)
    {
        _items.Enqueue((Guid.NewGuid().ToString("N"), await StandInStore.ReadItemAsync(requestStream, context)));
        _stored.TrySetResult();
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    public override async Task Retrieve(RetrieveRequest request, IServerStreamWriter<RetrieveReply> responseStream, ServerCallContext context)
    {
        if (_items.TryDequeue(out (string Id, (StoreRequest First, byte[] Data) Item) stored))
        {
            await StandInStore.SendItemAsync(responseStream, stored.Id, stored.Item.Data, stored.Item.First.ClientRef);
        }
        else
        {
            await responseStream.WriteAsync(new RetrieveReply { Empty = true });
        }
    }

    public override Task<ConfirmReply> Confirm(ConfirmRequest request, ServerCallContext context) => Task.FromResult(new ConfirmReply());
}
