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
    private readonly ConcurrentQueue<(string Id, StoreRequest Request)> _items = new();
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

    public override async Task<StoreReply> Store(StoreRequest request, ServerCallContext context)
    {
        _items.Enqueue((Guid.NewGuid().ToString("N"), request));
        _stored.TrySetResult();
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    public override Task<RetrieveReply> Retrieve(RetrieveRequest request, ServerCallContext context) =>
        Task.FromResult(_items.TryDequeue(out (string Id, StoreRequest Request) item)
            ? new RetrieveReply { Id = item.Id, Data = item.Request.Data, ClientRef = item.Request.ClientRef, LeaseSeconds = 60 }
            : new RetrieveReply { Empty = true });

    public override Task<ConfirmReply> Confirm(ConfirmRequest request, ServerCallContext context) => Task.FromResult(new ConfirmReply());
}
