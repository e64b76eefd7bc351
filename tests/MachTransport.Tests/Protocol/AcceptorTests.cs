using System.Buffers;
using System.Collections.Concurrent;
using MachTransport.Channel;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using MachTransport.Tests.Transport;
using Microsoft.Extensions.Logging.Testing;
using Xunit;

namespace MachTransport.Tests.Protocol;

/// <summary>
/// The handshake as the channel layer owns it, with no Kestrel and no client factory above it: a
/// <see cref="MachAcceptor"/> applies the admission policy it is given and hands out ready channels, a
/// <see cref="MachConnector"/> hands out the other end.
/// </summary>
[Trait("Category", "Protocol")]
public sealed class AcceptorTests
{
    private static readonly ChannelSettings Client = ChannelSettings.From(new MachConnectionLimits(), new FakeLogger(), TestMetrics.Server, MemoryPool<byte>.Shared);

    [Fact]
    public async Task AnAcceptorAndAConnectorMakeAChannelPairThatCarriesBytesBothWaysAndKnowsItsPeer()
    {
        var seen = new ConcurrentQueue<MachPeerIdentity>();
        await using MachAcceptor acceptor = Bind(peer =>
        {
            seen.Enqueue(peer);
            return true;
        }, out _);

        Task<MachChannel?> accepting = acceptor.AcceptAsync().AsTask();
        await using MachChannel client = await ConnectAsync(acceptor);
        MachChannel? server = await accepting.WaitAsync(ProtocolServer.Bound);
        Assert.NotNull(server);
        await using (server)
        {
            // The policy and the channel both saw the kernel's identity of the peer: here, this very process.
            Assert.Equal(Environment.ProcessId, Assert.Single(seen).Pid);
            Assert.Equal(Environment.ProcessId, server.Peer.Pid);
            Assert.Equal(Environment.ProcessId, client.Peer.Pid);
            Assert.Equal(client.PortName, server.PeerPortName);

            await client.Output.WriteAsync(new byte[] { 1, 2, 3 });
            Assert.Equal([1, 2, 3], await PipeReads.ReadExactlyAsync(server.Input, 3));
            await server.Output.WriteAsync(new byte[] { 4, 5 });
            Assert.Equal([4, 5], await PipeReads.ReadExactlyAsync(client.Input, 2));
        }
    }

    [Fact]
    public async Task APeerThePolicyRefusesOrThatMakesThePolicyThrowIsRejectedAsNotAllowed()
    {
        await using MachAcceptor refusing = Bind(_ => false, out FakeLogger refusingLog);
        MachConnectionRejectedException refused = await Assert.ThrowsAsync<MachConnectionRejectedException>(() => ConnectAsync(refusing));
        Assert.Equal(MachRejectReason.PeerNotAllowed, refused.Reason);
        Assert.Contains(refusingLog.Collector.GetSnapshot(), r => r.Id.Name == "PeerRejected");

        await using MachAcceptor throwing = Bind(_ => throw new InvalidOperationException("policy bug"), out FakeLogger throwingLog);
        MachConnectionRejectedException thrown = await Assert.ThrowsAsync<MachConnectionRejectedException>(() => ConnectAsync(throwing));
        Assert.Equal(MachRejectReason.PeerNotAllowed, thrown.Reason);
        Assert.Contains(throwingLog.Collector.GetSnapshot(), r => r.Id.Name == "PeerPolicyFailed" && r.Exception is InvalidOperationException);
    }

    [Fact]
    public async Task AnUnboundAcceptorEndsAcceptingAndRejectsAsShuttingDownBeforeAndAfterDisposal()
    {
        MachAcceptor acceptor = Bind(_ => true, out _);
        acceptor.Unbind();
        Assert.Null(await acceptor.AcceptAsync().AsTask().WaitAsync(ProtocolServer.Bound));
        Assert.Equal(MachRejectReason.ShuttingDown, (await Assert.ThrowsAsync<MachConnectionRejectedException>(() => ConnectAsync(acceptor))).Reason);

        // Disposed, its port is retired and still answers; an acceptor bound to the name again takes it back.
        await acceptor.DisposeAsync();
        Assert.Equal(MachRejectReason.ShuttingDown, (await Assert.ThrowsAsync<MachConnectionRejectedException>(() => ConnectAsync(acceptor))).Reason);
        await using MachAcceptor again = Bind(_ => true, out _, acceptor.ServiceName);
        Task<MachChannel?> accepting = again.AcceptAsync().AsTask();
        await using MachChannel client = await ConnectAsync(again);
        await using MachChannel? server = await accepting.WaitAsync(ProtocolServer.Bound);
        Assert.NotNull(server);
    }

    [Fact]
    public async Task AConnectionWhosePortCannotJoinTheLoopIsRejectedAtOnceAndGivesItsSlotBack()
    {
        // The port of a connection joins the acceptor loop's port set after the peer was admitted. Before, a failure
        // there (on Linux, EPOLL_CTL_ADD past the user's epoll watches) threw on the loop thread: the client got no
        // answer for its whole connect timeout, and the admitted slot and the client port stayed taken until disposal.
        var kernel = new HookedKernel(MachKernel.Current);
        await using MachAcceptor acceptor = Bind(_ => true, out FakeLogger log, kernel: kernel, maxConnections: 1);
        kernel.RefusePortSetMembers = true;
        MachConnectionRejectedException refused = await Assert.ThrowsAsync<MachConnectionRejectedException>(() => ConnectAsync(acceptor));
        Assert.Equal(MachRejectReason.ResourceFailure, refused.Reason);
        Assert.Contains(log.Collector.GetSnapshot(), r => r.Id.Name == "ConnectionAborted" && r.Message.Contains("could not join", StringComparison.Ordinal));

        // With room for one connection in all, the next connects: the refused one took no slot for good.
        kernel.RefusePortSetMembers = false;
        Task<MachChannel?> accepting = acceptor.AcceptAsync().AsTask();
        await using MachChannel client = await ConnectAsync(acceptor);
        await using MachChannel? server = await accepting.WaitAsync(ProtocolServer.Bound);
        Assert.NotNull(server);
    }

    [Fact]
    public async Task AConnectWhoseTokenIsCancelledBeforeItStartsSendsNoCONNECT()
    {
        // Before, the connect looked the service up and sent CONNECT before it looked at the token: the server admitted,
        // built and tore down a connection nobody would use.
        string name = TestEnvironment.UniqueServiceName("cancelled");
        using MachReceiveRight service = MachBootstrap.CheckIn(MachKernel.Current, name);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => MachConnector.ConnectAsync(MachReceiveLoop.Client, name, Client, ProtocolServer.Bound, new CancellationToken(canceled: true)));
        Assert.Equal(MachMsgReturn.ReceiveTimedOut, MachTestMessages.Receive(service.Name, timeoutMilliseconds: 0).Result.WithoutSpecialBits());
    }

    private static MachAcceptor Bind(Func<MachPeerIdentity, bool> policy, out FakeLogger log, string? serviceName = null, IMachKernel? kernel = null, int maxConnections = 16)
    {
        log = new FakeLogger();
        var settings = ChannelSettings.From(new MachConnectionLimits(), log, TestMetrics.Server, MemoryPool<byte>.Shared);
        return MachAcceptor.Bind(kernel ?? MachKernel.Current, serviceName ?? TestEnvironment.UniqueServiceName("acceptor"), systemDomain: false, new MachAdmissionPolicy(policy, maxConnections, 16, 16), settings);
    }

    private static Task<MachChannel> ConnectAsync(MachAcceptor acceptor)
        => MachConnector.ConnectAsync(MachReceiveLoop.Client, acceptor.ServiceName, Client, ProtocolServer.Bound, CancellationToken.None).WaitAsync(ProtocolServer.Bound);
}
