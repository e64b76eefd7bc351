using System.Reflection;
using System.Text;
using MachTransport.Channel;
using Microsoft.AspNetCore.Connections;
using MachTransport.Tests.MachLayer;
using Xunit;

namespace MachTransport.Tests.Protocol;

/// <summary>
/// docs/protocol.md, "Data, flow control, close": FIN half-closes one direction after the last DATA, ABORT closes
/// both and fails the peer's reads with a reset; a zero-byte read waits for data and consumes nothing.
/// </summary>
[Trait("Category", "Protocol")]
public sealed class CloseTests
{
    [Fact]
    public async Task FinFromTheClientEndsTheServersInputAndTheServerCanStillWrite()
    {
        await using ChannelPair pair = await ChannelPair.OpenAsync();
        await pair.Client.Output.WriteAsync("request"u8.ToArray());
        await pair.Client.Output.CompleteAsync();

        Assert.Equal("request", Encoding.ASCII.GetString(await PipeReads.ReadToEndAsync(pair.Server.Input).WaitAsync(ProtocolServer.Bound)));
        await pair.Server.Output.WriteAsync("late reply"u8.ToArray());
        await pair.Server.Output.CompleteAsync();
        Assert.Equal("late reply", Encoding.ASCII.GetString(await PipeReads.ReadToEndAsync(pair.Client.Input).WaitAsync(ProtocolServer.Bound)));
    }

    [Fact]
    public async Task FinFromTheServerEndsTheClientsInputAndTheClientCanStillWrite()
    {
        await using ChannelPair pair = await ChannelPair.OpenAsync();
        await pair.Server.Output.WriteAsync("greeting"u8.ToArray());
        await pair.Server.Output.CompleteAsync();

        Assert.Equal("greeting", Encoding.ASCII.GetString(await PipeReads.ReadToEndAsync(pair.Client.Input).WaitAsync(ProtocolServer.Bound)));
        await pair.Client.Output.WriteAsync("answer"u8.ToArray());
        await pair.Client.Output.CompleteAsync();
        Assert.Equal("answer", Encoding.ASCII.GetString(await PipeReads.ReadToEndAsync(pair.Server.Input).WaitAsync(ProtocolServer.Bound)));
    }

    [Fact]
    public async Task FinFollowsTheLastDataOnTheWire()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync();
        await peer.Server.Output.WriteAsync("last"u8.ToArray());
        await peer.Server.Output.CompleteAsync();

        ReceivedMessage data = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Data, data.Header.Id);
        Assert.Equal(4u, RawPeer.Word(data.Body, 0));
        ReceivedMessage fin = await peer.ReceiveAsync();
        Assert.Equal(MachProtocol.Fin, fin.Header.Id);
        Assert.False(fin.Header.IsComplex);
        Assert.Empty(fin.Body);
    }

    [Fact]
    public async Task AbortFromTheClientResetsTheServersReads()
    {
        await using ChannelPair pair = await ChannelPair.OpenAsync();
        Task<byte[]> serverReads = PipeReads.ReadToEndAsync(pair.Server.Input);
        Task<byte[]> clientReads = PipeReads.ReadToEndAsync(pair.Client.Input);
        pair.Client.Abort("the test aborts");

        await Assert.ThrowsAsync<ConnectionResetException>(() => serverReads.WaitAsync(ProtocolServer.Bound));
        await Assert.ThrowsAsync<ConnectionAbortedException>(() => clientReads.WaitAsync(ProtocolServer.Bound)); // its own side too
        await WaitClosedAsync(pair.Server);
    }

    [Fact]
    public async Task AbortFromTheServerResetsTheClientsReads()
    {
        await using ChannelPair pair = await ChannelPair.OpenAsync();
        Task<byte[]> clientReads = PipeReads.ReadToEndAsync(pair.Client.Input);
        pair.Server.Abort("the test aborts");

        ConnectionResetException reset = await Assert.ThrowsAsync<ConnectionResetException>(() => clientReads.WaitAsync(ProtocolServer.Bound));
        Assert.Contains("its application or transport aborted the connection", reset.Message, StringComparison.Ordinal);
        await WaitClosedAsync(pair.Client);
    }

    [Fact]
    public async Task AbortOnTheWireCarriesTheReasonAndAReceivedAbortResetsReads()
    {
        await using (RawPeer peer = await RawPeer.ConnectAsync())
        {
            peer.Server.Abort("the test aborts");
            ReceivedMessage abort = await peer.ReceiveAsync();
            Assert.Equal(MachProtocol.Abort, abort.Header.Id);
            Assert.Equal((uint)MachCloseReason.LocalAbort, RawPeer.Word(abort.Body, 0));
        }

        await using (RawPeer peer = await RawPeer.ConnectAsync())
        {
            peer.SendAbort(MachCloseReason.ProtocolError);
            ConnectionResetException reset = await Assert.ThrowsAsync<ConnectionResetException>(() => PipeReads.ReadToEndAsync(peer.Server.Input).WaitAsync(ProtocolServer.Bound));
            Assert.Equal("The peer aborted the Mach connection: it found a protocol violation in what it received.", reset.Message);
            Assert.Equal(0, peer.Host.ProtocolErrorCount);
        }
    }

    [Fact]
    public async Task AZeroByteReadCompletesOnlyOnceDataIsThereAndConsumesNoneOfIt()
    {
        await using ChannelPair pair = await ChannelPair.OpenAsync();
        await using var stream = new MachChannelStream(pair.Client);
        Task<int> zeroByteRead = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(zeroByteRead.IsCompleted);

        // When the read completes, the bytes it waited for must be in the input already (and stay there).
        Task<long> availableWhenDone = zeroByteRead.ContinueWith(
            _ => PipeReads.Buffered(pair.Client.Input), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        await pair.Server.Output.WriteAsync("hello"u8.ToArray());

        Assert.Equal(0, await zeroByteRead.WaitAsync(ProtocolServer.Bound));
        Assert.Equal(5, await availableWhenDone);
        byte[] buffer = new byte[16];
        Assert.Equal(5, await stream.ReadAsync(buffer).AsTask().WaitAsync(ProtocolServer.Bound));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, 5));
    }

    [Fact]
    public async Task AZeroByteReadAtTheEndOfTheStreamReturns0()
    {
        await using ChannelPair pair = await ChannelPair.OpenAsync();
        await using var stream = new MachChannelStream(pair.Client);
        await pair.Server.Output.CompleteAsync();

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(ProtocolServer.Bound));
        Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(ProtocolServer.Bound));
    }

    [Theory]
    [InlineData(true)] // cancelled first, released later
    [InlineData(false)] // released, then cancelled on a pool thread
    public async Task AReleasedChannelDisposesItsClosedSource(bool abortFirst)
    {
        await using ChannelPair pair = await ChannelPair.OpenAsync();
        var source = (CancellationTokenSource)typeof(MachChannel).GetField("_closed", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(pair.Client)!;
        if (abortFirst)
        {
            pair.Client.Abort("test");
            await WaitClosedAsync(pair.Client);
        }

        await pair.Client.DisposeAsync();

        // Disposed by whichever of the cancellation (a pool thread) and the release comes last.
        Assert.True(SpinWait.SpinUntil(() => IsDisposed(source), ProtocolServer.Bound), "the Closed source of a released channel was never disposed");
        Assert.True(pair.Client.Closed.IsCancellationRequested); // still readable (the fuzzer reads it to decide to reconnect)
    }

    private static bool IsDisposed(CancellationTokenSource source)
    {
        try
        {
            _ = source.Token;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    private static async Task WaitClosedAsync(MachChannel channel)
    {
        // Not inline: the test's own continuation must not run inside the channel's Cancel.
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = channel.Closed.Register(() => closed.TrySetResult());
        await closed.Task.WaitAsync(ProtocolServer.Bound);
    }
}
