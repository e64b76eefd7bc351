using Grpc.Net.Client;

namespace MachTransport.Grpc;

/// <summary>
/// Copies of the caller's options, so that <see cref="MachGrpcChannel.ForService"/> changes nothing it was given (the
/// same options may build several channels). Every settable property is copied; a test holds the list to the types'.
/// </summary>
internal static class MachOptionsCopy
{
    public static GrpcChannelOptions Of(GrpcChannelOptions options) => new()
    {
        CompressionProviders = options.CompressionProviders,
        Credentials = options.Credentials,
        DisposeHttpClient = options.DisposeHttpClient,
        HttpClient = options.HttpClient,
        HttpHandler = options.HttpHandler,
        HttpVersion = options.HttpVersion,
        HttpVersionPolicy = options.HttpVersionPolicy,
        LoggerFactory = options.LoggerFactory,
        MaxReceiveMessageSize = options.MaxReceiveMessageSize,
        MaxRetryAttempts = options.MaxRetryAttempts,
        MaxRetryBufferPerCallSize = options.MaxRetryBufferPerCallSize,
        MaxRetryBufferSize = options.MaxRetryBufferSize,
        MaxSendMessageSize = options.MaxSendMessageSize,
        ServiceConfig = options.ServiceConfig,
        ServiceProvider = options.ServiceProvider,
        ThrowOperationCanceledOnCancellation = options.ThrowOperationCanceledOnCancellation,
        UnsafeUseInsecureChannelCallCredentials = options.UnsafeUseInsecureChannelCallCredentials,
        DisableResolverServiceConfig = options.DisableResolverServiceConfig,
        InitialReconnectBackoff = options.InitialReconnectBackoff,
        MaxReconnectBackoff = options.MaxReconnectBackoff,
    };

    public static MachClientOptions Of(MachClientOptions options)
    {
        var copy = new MachClientOptions { ConnectTimeout = options.ConnectTimeout, LoggerFactory = options.LoggerFactory };
        MachConnectionLimits from = options.Limits, to = copy.Limits;
        to.MaxReadBufferSize = from.MaxReadBufferSize;
        to.MaxWriteBufferSize = from.MaxWriteBufferSize;
        to.InlineThreshold = from.InlineThreshold;
        to.CreditStallTimeout = from.CreditStallTimeout;
        to.QueueLimit = from.QueueLimit;
        return copy;
    }
}
