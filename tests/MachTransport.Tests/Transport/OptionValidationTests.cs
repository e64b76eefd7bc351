using MachTransport.Client;
using MachTransport.Server;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>Bad settings fail where they are set, with the bound in the message.</summary>
[Trait("Category", "Conformance")]
public class OptionValidationTests
{
    [Fact]
    public void ServerOptionsRejectValuesOutsideTheirBounds()
    {
        var options = new MachTransportOptions();
        Assert.Contains("between 2 and 1024", Assert.Throws<ArgumentOutOfRangeException>(() => options.QueueLimit = 2048).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.InlineThreshold = 64 * 1024 + 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxReadBufferSize = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxWriteBufferSize = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxConnections = 0);
        Assert.Throws<ArgumentNullException>(() => options.PeerPolicy = null!);
        options.QueueLimit = 64;
        options.InlineThreshold = 0;
        Assert.Equal(64, options.QueueLimit);
        Assert.Equal(0, options.InlineThreshold);
    }

    [Fact]
    public void ClientOptionsRejectValuesOutsideTheirBounds()
    {
        var options = new MachClientOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ConnectTimeout = TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.QueueLimit = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxReadBufferSize = (long)int.MaxValue + 1);
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
