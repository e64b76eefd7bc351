using System.Text;
using MachTransport.Client;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>The client <see cref="Stream"/> as SocketsHttpHandler uses it.</summary>
[Trait("Category", "CrossProcess")]
public sealed class ChannelStreamTests
{
    [Fact]
    public async Task AZeroByteReadWaitsForDataAndConsumesNothing()
    {
        await using TransportHost host = await TransportHost.StartAsync("zeroread");
        await using Stream stream = await new MachConnectionFactory(host.Service + ".h1").ConnectAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // An HTTP/1.1 server says nothing before a request: the zero-byte read must still be waiting.
        Task<int> zeroByteRead = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(zeroByteRead.IsCompleted);

        await stream.WriteAsync("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());
        await stream.FlushAsync();
        Assert.Equal(0, await zeroByteRead.WaitAsync(TimeSpan.FromSeconds(10)));

        // Nothing was consumed: the response starts at its first byte.
        byte[] buffer = new byte[12];
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, n);
            read += n;
        }

        Assert.Equal("HTTP/1.1 200", Encoding.ASCII.GetString(buffer));
    }

    [Fact]
    public void AFactoryRejectsAnUnusableServiceName()
        => Assert.Throws<ArgumentException>(() => new MachConnectionFactory("no/slashes"));
}
