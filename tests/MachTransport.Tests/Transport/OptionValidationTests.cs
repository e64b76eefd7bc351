using System.Buffers;
using MachTransport.Channel;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>Bad settings fail where they are set, with the bound in the message.</summary>
[Trait("Category", "Conformance")]
public class OptionValidationTests
{
    [Fact]
    public void ConnectionLimitsRejectValuesOutsideTheirBounds()
    {
        var limits = new MachConnectionLimits();
        Assert.Contains("between 2 and 1024", Assert.Throws<ArgumentOutOfRangeException>(() => limits.QueueLimit = 2048).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.QueueLimit = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.InlineThreshold = 64 * 1024 + 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxReadBufferSize = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxReadBufferSize = (long)int.MaxValue + 1);
        Assert.Contains("between 1 byte and 16 MiB", Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxReadBufferSize = (16 << 20) + 1).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxWriteBufferSize = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.CreditStallTimeout = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.CreditStallTimeout = TimeSpan.FromSeconds(-1));
        Assert.Equal(TimeSpan.FromSeconds(30), limits.CreditStallTimeout);
        limits.CreditStallTimeout = Timeout.InfiniteTimeSpan;
        limits.QueueLimit = 64;
        limits.InlineThreshold = 0;
        Assert.Equal(64, limits.QueueLimit);
        Assert.Equal(0, limits.InlineThreshold);
    }

    [Fact]
    public void NullBufferSizesMeanWhatKestrelsDo()
    {
        var limits = new MachConnectionLimits { MaxReadBufferSize = null, MaxWriteBufferSize = null };

        ChannelSettings settings = ChannelSettings.From(limits, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, Transport.TestMetrics.Server, MemoryPool<byte>.Shared);

        Assert.Equal(MachProtocol.MaxByteWindow, settings.ByteWindow); // no limit of our own: the protocol's largest window
        Assert.Equal(0, settings.OutputPipeOptions.PauseWriterThreshold); // writes never wait
        Assert.Equal(64L * 1024, new MachConnectionLimits().MaxWriteBufferSize);
        Assert.Equal(1024L * 1024, new MachConnectionLimits().MaxReadBufferSize);
    }

    [Fact]
    public void ServerAndClientEachHaveTheirOwnLimitsWithTheSameDefaults()
    {
        var server = new MachTransportOptions();
        var client = new MachClientOptions();
        Assert.NotSame(server.Limits, client.Limits);
        server.Limits.QueueLimit = 8;
        Assert.Equal(1024, client.Limits.QueueLimit);
        Assert.Equal(MachConnectionLimits.DefaultInlineThreshold, client.Limits.InlineThreshold);
        Assert.Equal(server.Limits.MaxReadBufferSize, client.Limits.MaxReadBufferSize);
    }

    [Fact]
    public void ServerOptionsRejectValuesOutsideTheirBounds()
    {
        var options = new MachTransportOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxConnections = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxConnectionsPerUser = 0);
        Assert.Throws<ArgumentNullException>(() => options.PeerPolicy = null!);
    }

    [Fact]
    public void ClientOptionsRejectValuesOutsideTheirBounds()
    {
        var options = new MachClientOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ConnectTimeout = TimeSpan.Zero);
        options.ConnectTimeout = Timeout.InfiniteTimeSpan;
        Assert.Equal(Timeout.InfiniteTimeSpan, options.ConnectTimeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("nul\0inside")]
    public void AnEndpointRejectsAnUnusableServiceName(string name)
        => Assert.Contains("not a valid Mach service name", Assert.Throws<ArgumentException>(() => new MachEndPoint(name)).Message, StringComparison.Ordinal);

    [Fact]
    public void AnEndpointRejectsANameLongerThanNameT()
        => Assert.Throws<ArgumentException>(() => new MachEndPoint(new string('x', 128)));

    [Fact]
    public void EndpointsWithTheSameNameAreEqual()
    {
        var a = new MachEndPoint("com.example.greeter");
        var b = new MachEndPoint("com.example.greeter");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new MachEndPoint("com.example.other"));
        Assert.Equal("mach:com.example.greeter", a.ToString());
    }
}
