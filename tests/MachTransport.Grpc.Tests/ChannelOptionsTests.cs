using System.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary><c>MachGrpcChannel.ForService</c> changes none of the options it is given, and copies all of them.</summary>
[Trait("Category", "Grpc")]
public sealed class ChannelOptionsTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    [Fact]
    public async Task OneOptionsObjectServesTwoChannelsAndStaysAsItWas()
    {
        var channelOptions = new GrpcChannelOptions { LoggerFactory = NullLoggerFactory.Instance, MaxReceiveMessageSize = 1234 };
        var clientOptions = new MachClientOptions { ConnectTimeout = TimeSpan.FromSeconds(7) };

        using GrpcChannel first = MachGrpcChannel.ForService(server.ServiceName, channelOptions, clientOptions);
        using GrpcChannel second = MachGrpcChannel.ForService(server.ServiceName, channelOptions, clientOptions);
        EchoReply reply = await new Tester.TesterClient(second).EchoAsync(new EchoRequest { Message = "twice" }, deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal("twice", reply.Message);
        Assert.Null(channelOptions.HttpHandler);
        Assert.False(channelOptions.DisposeHttpClient);
        Assert.Null(clientOptions.LoggerFactory); // the channel's logger factory went to a copy
        Assert.Equal(TimeSpan.FromSeconds(7), clientOptions.ConnectTimeout);
    }

    [Fact]
    public void TheCopyCoversEverySettablePropertyOfTheChannelOptions()
    {
        string[] settable = typeof(GrpcChannelOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod?.IsPublic == true).Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        var original = new GrpcChannelOptions
        {
            CompressionProviders = [],
            Credentials = ChannelCredentials.Insecure,
            DisposeHttpClient = true,
            HttpVersion = new Version(2, 0),
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            LoggerFactory = NullLoggerFactory.Instance,
            MaxReceiveMessageSize = 1,
            MaxRetryAttempts = 2,
            MaxRetryBufferPerCallSize = 3,
            MaxRetryBufferSize = 4,
            MaxSendMessageSize = 5,
            ServiceConfig = new ServiceConfig(),
            ServiceProvider = new EmptyServiceProvider(),
            ThrowOperationCanceledOnCancellation = true,
            UnsafeUseInsecureChannelCallCredentials = true,
            DisableResolverServiceConfig = true,
            InitialReconnectBackoff = TimeSpan.FromSeconds(6),
            MaxReconnectBackoff = TimeSpan.FromSeconds(8),
        };

        GrpcChannelOptions copy = MachOptionsCopy.Of(original);

        // A property the package adds fails here until MachOptionsCopy copies it (HttpClient/HttpHandler: always null there).
        Assert.Equal(
            ["CompressionProviders", "Credentials", "DisableResolverServiceConfig", "DisposeHttpClient", "HttpClient", "HttpHandler", "HttpVersion", "HttpVersionPolicy", "InitialReconnectBackoff", "LoggerFactory", "MaxReceiveMessageSize", "MaxReconnectBackoff", "MaxRetryAttempts", "MaxRetryBufferPerCallSize", "MaxRetryBufferSize", "MaxSendMessageSize", "ServiceConfig", "ServiceProvider", "ThrowOperationCanceledOnCancellation", "UnsafeUseInsecureChannelCallCredentials"],
            settable);
        foreach (PropertyInfo property in typeof(GrpcChannelOptions).GetProperties().Where(p => settable.Contains(p.Name)))
        {
            Assert.Equal(property.GetValue(original), property.GetValue(copy));
        }
    }

    [Fact]
    public void TheClientOptionsCopyCoversEverySettableProperty()
    {
        var original = new MachClientOptions { ConnectTimeout = TimeSpan.FromSeconds(3), LoggerFactory = NullLoggerFactory.Instance };
        original.Limits.MaxReadBufferSize = 4096;
        original.Limits.MaxWriteBufferSize = 8192;
        original.Limits.InlineThreshold = 100;
        original.Limits.CreditStallTimeout = TimeSpan.FromSeconds(9);
        original.Limits.QueueLimit = 16;

        MachClientOptions copy = MachOptionsCopy.Of(original);

        Assert.NotSame(original.Limits, copy.Limits);
        foreach (object[] pair in new[] { new object[] { original, copy }, [original.Limits, copy.Limits] })
        {
            PropertyInfo[] settable = pair[0].GetType().GetProperties().Where(p => p.SetMethod?.IsPublic == true).ToArray();
            Assert.NotEmpty(settable);
            foreach (PropertyInfo property in settable)
            {
                Assert.Equal(property.GetValue(pair[0]), property.GetValue(pair[1]));
            }
        }
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
