using Grpc.Net.Client;

namespace MachTransport.Grpc;

/// <summary>Creates <see cref="GrpcChannel"/>s whose calls go to a Mach service.</summary>
public static class MachGrpcChannel
{
    /// <summary>The address a Mach channel is created for: it names the HTTP/2 <c>:authority</c>, not a route.</summary>
    public static Uri Address { get; } = new("http://localhost");

    /// <summary>
    /// A channel to the Mach service <paramref name="serviceName"/>. Every option of <paramref name="channelOptions"/>
    /// applies as over TCP (service config and retries, message size limits, compression, credentials, logging),
    /// except <see cref="GrpcChannelOptions.HttpHandler"/> and <see cref="GrpcChannelOptions.HttpClient"/>, which must
    /// be unset: the channel gets its own Mach handler (from <paramref name="clientOptions"/>) and disposes it with
    /// itself. Neither options object is changed, so one may serve several channels. The channel's
    /// <see cref="GrpcChannelOptions.LoggerFactory"/> also logs the transport's client events unless
    /// <paramref name="clientOptions"/> names another.
    /// </summary>
    /// <exception cref="ArgumentException">The options already carry an HTTP handler or client.</exception>
    public static GrpcChannel ForService(string serviceName, GrpcChannelOptions? channelOptions = null, MachClientOptions? clientOptions = null)
    {
        if (channelOptions?.HttpHandler is not null || channelOptions?.HttpClient is not null)
        {
            throw new ArgumentException("A Mach channel brings its own HTTP handler: leave HttpHandler and HttpClient unset (or use GrpcChannel.ForAddress with MachHttpHandler.Create).", nameof(channelOptions));
        }

        GrpcChannelOptions channel = channelOptions is null ? new GrpcChannelOptions() : MachOptionsCopy.Of(channelOptions);
        MachClientOptions client = clientOptions is null ? new MachClientOptions() : MachOptionsCopy.Of(clientOptions);
        client.LoggerFactory ??= channel.LoggerFactory;
        channel.HttpHandler = MachHttpHandler.Create(serviceName, client);
        channel.DisposeHttpClient = true;
        return GrpcChannel.ForAddress(Address, channel);
    }
}
