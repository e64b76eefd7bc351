using MachTransport;
using MachTransport.Server;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Registers the Mach transport with Kestrel and binds Mach services.</summary>
public static class MachTransportExtensions
{
    /// <summary>
    /// Adds the Mach transport next to Kestrel's own (TCP keeps working); bind services with
    /// <see cref="ListenMach(KestrelServerOptions, string, Action{ListenOptions}?)"/>. Adds the health check
    /// <c>mach-service-names</c>: unhealthy when look-ups of a service name no longer reach this server.
    /// </summary>
    public static IWebHostBuilder UseMachTransport(this IWebHostBuilder builder, Action<MachTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services =>
        {
            if (!services.Any(service => service.ImplementationType == typeof(MachTransportFactory)))
            {
                services.AddHealthChecks().AddCheck(MachServiceNameWatch.HealthCheckName, MachServiceNameWatch.CheckHealth); // once: names are unique
            }

            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, MachTransportFactory>());
            services.TryAddSingleton<MachTransportRegistration>();
            services.AddOptions<MachTransportOptions>();
            if (configure is not null)
            {
                services.Configure(configure);
            }
        });
    }

    /// <summary>
    /// Listens on the Mach service <paramref name="serviceName"/>. The default protocol is HTTP/2 (clients use prior
    /// knowledge, as <c>UseMachService</c> and <c>MachGrpcChannel</c> do): Kestrel cannot tell HTTP/1.1 from HTTP/2 on
    /// one cleartext endpoint and would pick HTTP/1.1 for <c>Http1AndHttp2</c>, which gRPC cannot use. An HTTP/1.x
    /// request to an HTTP/2-only Mach endpoint gets a 400 whose body says how to send HTTP/2 or serve HTTP/1.1. Set
    /// <c>listen.Protocols = HttpProtocols.Http1</c> in <paramref name="configure"/> for HTTP/1.1 clients.
    /// </summary>
    public static void ListenMach(this KestrelServerOptions options, string serviceName, Action<ListenOptions>? configure = null)
        => ListenMach(options, serviceName, MachBootstrapDomain.User, configure);

    /// <summary>
    /// Listens on the Mach service <paramref name="serviceName"/> in <paramref name="domain"/>:
    /// <see cref="MachBootstrapDomain.System"/> for a privileged helper that other users' processes call (on Linux the
    /// server runs as root; who may connect is <see cref="MachTransportOptions.PeerPolicy"/>'s decision). Otherwise as
    /// <see cref="ListenMach(KestrelServerOptions, string, Action{ListenOptions}?)"/>.
    /// </summary>
    public static void ListenMach(this KestrelServerOptions options, string serviceName, MachBootstrapDomain domain, Action<ListenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Without the transport Kestrel fails later with "No registered IConnectionListenerFactory supports endpoint
        // MachEndPoint", which names neither the cause nor the fix. Kestrel sets ApplicationServices before the app's
        // own configuration runs; a hand-made KestrelServerOptions without it is left to Kestrel's message.
        if (options.ApplicationServices is IServiceProvider services && services.GetService<MachTransportRegistration>() is null)
        {
            throw new InvalidOperationException(
                $"ListenMach(\"{serviceName}\") needs the Mach transport, which is not registered: call builder.WebHost.UseMachTransport() as well.");
        }

        options.Listen(new MachEndPoint(serviceName, domain), listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            configure?.Invoke(listen);
            Http1OnHttp2Endpoint.AddTo(listen);
        });
    }
}
