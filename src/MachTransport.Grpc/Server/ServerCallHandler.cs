using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Grpc.Server;

/// <summary>Runs one method of <typeparamref name="TService"/> for each request: validate, activate, invoke, send the status.</summary>
internal sealed class ServerCallHandler<TService, TRequest, TResponse>(
    Method<TRequest, TResponse> method,
    Func<TService, ServerCall<TRequest, TResponse>, Task> invoke,
    GrpcServiceOptions options,
    ILogger logger)
    where TService : class
    where TRequest : class
    where TResponse : class
{
    private static readonly ObjectFactory<TService> Factory = ActivatorUtilities.CreateFactory<TService>([]);

    public async Task HandleCallAsync(HttpContext httpContext)
    {
        if (!ServerRequest.TryAccept(httpContext, logger))
        {
            return;
        }

        using var context = new HttpServerCallContext(httpContext, method.FullName);
        using var call = new ServerCall<TRequest, TResponse>(httpContext, method, context, options);
        try
        {
            await InvokeServiceAsync(httpContext, call).ConfigureAwait(false);
            if (context.DeadlineExceeded)
            {
                context.Status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            }
        }
        catch (Exception) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            GrpcLog.CallAborted(logger, method.FullName);
            return; // the client reset the stream: nobody is left to read a status
        }
        catch (RpcException ex)
        {
            context.Status = ex.Status;
            foreach (Metadata.Entry entry in ex.Trailers)
            {
                context.ResponseTrailers.Add(entry);
            }

            GrpcLog.CallFailed(logger, method.FullName, ex.StatusCode, ex.Status.Detail);
        }
        catch (Exception ex) when (context.DeadlineExceeded)
        {
            context.Status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            GrpcLog.CallFailed(logger, method.FullName, StatusCode.DeadlineExceeded, ex.Message);
        }
        catch (Exception ex)
        {
            GrpcLog.HandlerFailed(logger, method.FullName, ex);
            context.Status = new Status(StatusCode.Unknown, options.EnableDetailedErrors ? $"Exception was thrown by handler. {ex.GetType().Name}: {ex.Message}" : "Exception was thrown by handler.");
        }

        context.WriteStatus();
    }

    private async Task InvokeServiceAsync(HttpContext httpContext, ServerCall<TRequest, TResponse> call)
    {
        // A service registered in DI keeps its lifetime there; one made here lives for this call only.
        TService? registered = httpContext.RequestServices.GetService<TService>();
        TService service = registered ?? Factory(httpContext.RequestServices, null);
        try
        {
            await invoke(service, call).ConfigureAwait(false);
        }
        finally
        {
            if (registered is null)
            {
                await DisposeAsync(service).ConfigureAwait(false);
            }
        }
    }

    private static ValueTask DisposeAsync(TService service)
    {
        switch (service)
        {
            case IAsyncDisposable asyncDisposable:
                return asyncDisposable.DisposeAsync();
            case IDisposable disposable:
                disposable.Dispose();
                return ValueTask.CompletedTask;
            default:
                return ValueTask.CompletedTask;
        }
    }
}
