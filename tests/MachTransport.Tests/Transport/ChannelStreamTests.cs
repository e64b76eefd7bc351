using System.IO.Pipelines;
using System.Text;
using MachTransport.Channel;
using MachTransport.Tests.Protocol;
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
        await using Stream stream = await new MachConnectionFactory().ConnectStreamAsync(new MachEndPoint(host.Service + ".h1")).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // An HTTP/1.1 server says nothing before a request: the zero-byte read must wait for the response, so when it
        // completes the response's bytes are in the input already (a read that returned early finds it empty).
        PipeReader input = ((MachChannelStream)stream).Channel.Input;
        Task<int> zeroByteRead = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Task<long> bufferedWhenDone = zeroByteRead.ContinueWith(
            _ => PipeReads.Buffered(input), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Assert.False(zeroByteRead.IsCompleted);

        await stream.WriteAsync("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());
        await stream.FlushAsync();
        Assert.Equal(0, await zeroByteRead.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await bufferedWhenDone > 0, "the zero-byte read completed before any data arrived");

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
    public void AHandlerRejectsAnUnusableServiceName()
        => Assert.Throws<ArgumentException>(() => MachHttpHandler.Create("no/slashes"));
}
