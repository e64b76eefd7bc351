// Registers a Mach service without Kestrel: the transport's own listener, reached through its public DI registration.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MachTransport.Tools;

/// <summary>
/// Binds a <see cref="MachEndPoint"/> with the <see cref="IConnectionListenerFactory"/> that <c>UseMachTransport</c>
/// registers, as Kestrel would: the same public entry point and options (peer policy: same user by default), no
/// new public API and no server. Accepted connections are <see cref="ConnectionContext"/>s whose transport is the
/// Mach channel; completing its output sends FIN.
/// </summary>
internal static class MachServiceListener
{
    /// <exception cref="AddressInUseException">Another process holds the name.</exception>
    public static async Task<IConnectionListener> BindAsync(string serviceName, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var endPoint = new MachEndPoint(serviceName);
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.UseMachTransport();
        // The listener lives on its own once bound; the provider only builds it.
        await using ServiceProvider services = builder.Services.BuildServiceProvider();
        IConnectionListenerFactory factory = services.GetServices<IConnectionListenerFactory>()
            .First(f => f is IConnectionListenerFactorySelector selector && selector.CanBind(endPoint));
        return await factory.BindAsync(endPoint, cancellationToken);
    }
}
