using MachTransport.Grpc.Client;

namespace MachTransport.Grpc;

/// <summary>A connection target for gRPC calls: an address and the <see cref="HttpMessageHandler"/> that reaches it.</summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly bool _disposeHandler;

    private GrpcChannel(Uri address, GrpcChannelOptions options)
    {
        if (address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Address '{address}' must be http:// or https://.", nameof(address));
        }

        Address = address;
        MaxReceiveMessageSize = options.MaxReceiveMessageSize;
        MaxSendMessageSize = options.MaxSendMessageSize;
        HttpMessageHandler handler = options.HttpHandler ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false };
        _disposeHandler = options.HttpHandler is null || options.DisposeHttpClient;
        Invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        Handler = handler;
    }

    /// <summary>The base address of every call.</summary>
    public Uri Address { get; }

    internal HttpMessageInvoker Invoker { get; }

    internal int? MaxReceiveMessageSize { get; }

    internal int? MaxSendMessageSize { get; }

    private HttpMessageHandler Handler { get; }

    /// <summary>A channel to <paramref name="address"/>, e.g. <c>http://localhost</c> with a Mach handler.</summary>
    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null) => ForAddress(new Uri(address), options);

    /// <summary>A channel to <paramref name="address"/>.</summary>
    public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new GrpcChannel(address, options ?? new GrpcChannelOptions());
    }

    /// <summary>The invoker generated clients call through.</summary>
    public CallInvoker CreateCallInvoker() => new HttpCallInvoker(this);

    /// <inheritdoc />
    public void Dispose()
    {
        Invoker.Dispose();
        if (_disposeHandler)
        {
            Handler.Dispose();
        }
    }
}
