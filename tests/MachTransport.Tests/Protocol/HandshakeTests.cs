using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Protocol;

/// <summary>docs/protocol.md, "Handshake": what each side makes of an answer or a request it cannot use.</summary>
[Trait("Category", "Protocol")]
public sealed class HandshakeTests
{
    [Fact]
    public async Task AServerThatAcceptsAndClosesAtOnceIsReportedAsHavingClosedTheConnection()
    {
        // A server that closes right after ACCEPT (Kestrel's MaxConcurrentConnections) destroys its connection port
        // before the client dequeues the ACCEPT: the right arrives as MACH_PORT_DEAD. A raw server sends exactly that,
        // a dead name, so the order does not depend on which thread runs first.
        string name = TestEnvironment.UniqueServiceName("accept-close");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        Task<MachChannel> connect = MachClientConnector.ConnectAsync(name, new MachClientOptions(), CancellationToken.None);
        ReceivedMessage request = await Task.Run(() => Receive(service.Name));
        Assert.Equal(MachProtocol.Connect, request.Header.Id);
        using var client = new MachSendRight(Kernel, request.Descriptors[0].Name);

        byte[] body = RawPeer.Words(MachProtocol.Version, 1 << 20, 512, MachProtocol.MaxInlinePayload);
        Assert.Equal(MachMsgReturn.Success, Send(client.Name, MachMsgTypeName.CopySend, MachProtocol.Accept, body,
            attachments: [Attachment.Port(MachPort.Dead, MachMsgTypeName.CopySend)]));

        IOException error = await Assert.ThrowsAsync<IOException>(() => connect.WaitAsync(ProtocolServer.Bound));
        Assert.Contains("closed the connection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACONNECTWhoseClientPortIsAPortOfTheServersOwnIsDroppedAndTheServiceGoesOn()
    {
        await using RawPeer peer = await RawPeer.ConnectAsync();
        using (MachSendRight service = MachBootstrap.LookUp(Kernel, peer.Host.Service))
        {
            // The service port itself, then the port of the peer's own connection.
            foreach (uint own in new[] { service.Name, peer.ConnectionPort })
            {
                Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, ConnectBody,
                    attachments: [Attachment.Port(own, MachMsgTypeName.CopySend)]));
            }
        }

        // The service port is read in order: had either been admitted, it would be the next connection accepted.
        await using MachChannel fresh = await MachClientConnector.ConnectAsync(peer.Host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(ProtocolServer.Bound);
        MachChannel accepted = await peer.Host.AcceptAsync();
        Assert.Equal(fresh.PeerPortName, accepted.PortName);
        Assert.Equal(2, peer.Host.Log.Collector.GetSnapshot().Count(r => r.Id.Name == "MalformedServiceMessage" && r.Message.Contains("a port of this server", StringComparison.Ordinal)));

        // The peer's own connection is untouched.
        peer.SendData(10);
        await PipeReads.ConsumeAsync(peer.Server.Input, 10);
        Assert.Equal(2, peer.Host.ProtocolErrorCount);
    }

    [Theory]
    [InlineData(1u << 20, uint.MaxValue, 1u)] // the window of the issue: ~810 MiB pinned per connection
    [InlineData(1u << 20, 513u, 65536u)]
    [InlineData((16u << 20) + 1, 512u, 65536u)]
    [InlineData(1u << 20, 512u, 4095u)]
    public async Task ACONNECTAnnouncingAWindowBeyondTheProtocolsBoundsIsRejectedAndTheServiceGoesOn(uint bytes, uint messages, uint maxInline)
    {
        await using ProtocolServer host = ProtocolServer.Bind();
        using MachReceiveRight client = MachReceiveRight.Allocate(Kernel);
        using (MachSendRight service = MachBootstrap.LookUp(Kernel, host.Service))
        {
            Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect,
                RawPeer.Words(MachProtocol.Version, MachProtocol.Version, bytes, messages, maxInline),
                attachments: [Attachment.Port(client.Name, MachMsgTypeName.MakeSend)]));
        }

        ReceivedMessage answer = await Task.Run(() => Receive(client.Name));
        Assert.Equal(MachProtocol.Reject, answer.Header.Id);
        Assert.Equal((uint)MachCloseReason.ProtocolError, RawPeer.Word(answer.Body, 0));
        Assert.Contains("beyond the protocol's bounds", System.Text.Encoding.UTF8.GetString(answer.Body, 8, (int)RawPeer.Word(answer.Body, 1)), StringComparison.Ordinal);

        await using MachChannel fresh = await MachClientConnector.ConnectAsync(host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(ProtocolServer.Bound);
        Assert.Equal(fresh.PeerPortName, (await host.AcceptAsync()).PortName);
    }

    [Fact]
    public async Task AnACCEPTAnnouncingAWindowBeyondTheProtocolsBoundsFailsTheConnectWithThatReason()
    {
        string name = TestEnvironment.UniqueServiceName("accept-window");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        Task<MachChannel> connect = MachClientConnector.ConnectAsync(name, new MachClientOptions(), CancellationToken.None);
        ReceivedMessage request = await Task.Run(() => Receive(service.Name));
        using var client = new MachSendRight(Kernel, request.Descriptors[0].Name);
        using MachReceiveRight connectionPort = MachReceiveRight.Allocate(Kernel);

        byte[] body = RawPeer.Words(MachProtocol.Version, 1 << 20, uint.MaxValue, 1);
        Assert.Equal(MachMsgReturn.Success, Send(client.Name, MachMsgTypeName.CopySend, MachProtocol.Accept, body,
            attachments: [Attachment.Port(connectionPort.Name, MachMsgTypeName.MakeSend)]));

        IOException error = await Assert.ThrowsAsync<IOException>(() => connect.WaitAsync(ProtocolServer.Bound));
        Assert.Contains("malformed ACCEPT: a window beyond the protocol's bounds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConnectionWhoseClientPortCannotBeWatchedIsDroppedForThatReasonNotForItsACCEPT()
    {
        // Before, the listener logged "sending ACCEPT failed with INVALID_DEST" when it was the watch that failed.
        var kernel = new HookedKernel(Kernel) { RefuseDeadNameWatches = true };
        await using ProtocolServer host = ProtocolServer.Bind(kernel: kernel);
        Task<MachChannel> connect = MachClientConnector.ConnectAsync(host.Service, new MachClientOptions(), CancellationToken.None);

        Assert.True(SpinWait.SpinUntil(() => host.Log.Collector.GetSnapshot().Any(r => r.Id.Name == "ConnectionReleased"), ProtocolServer.Bound), "the connection was never dropped");
        Assert.Contains(host.Log.Collector.GetSnapshot(), r => r.Id.Name == "ConnectionAborted" && r.Message.Contains("could not be watched", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Log.Collector.GetSnapshot(), r => r.Id.Name == "SendFailed");
        await Assert.ThrowsAsync<IOException>(() => connect.WaitAsync(ProtocolServer.Bound));
    }

    [Theory]
    [InlineData("", "é", 150, 100)] // 300 bytes, 2 a character
    [InlineData("", "😀", 100, 50)] // 400 bytes, 4 a character (a surrogate pair)
    [InlineData("x", "😀", 100, 49)] // 1 + 49 × 4 bytes, and 3 bytes left that no whole character fits
    public void AREJECTTextLongerThanTheLimitIsCutAfterItsLastWholeCharacter(string prefix, string unit, int repeat, int kept)
    {
        // Before, the text was measured in bytes but cut by characters: a non-ASCII reason over 200 bytes threw
        // (on the listener's receive thread, where every REJECT is written).
        using MachReceiveRight client = MachReceiveRight.Allocate(Kernel);
        using (MachSendRight send = client.MakeSend())
        {
            MachSender.SendReject(Kernel, send.Name, MachCloseReason.PeerNotAllowed, prefix + string.Concat(Enumerable.Repeat(unit, repeat)));
        }

        ReceivedMessage answer = Receive(client.Name);
        Assert.Equal(MachProtocol.Reject, answer.Header.Id);
        Assert.Equal((uint)MachCloseReason.PeerNotAllowed, RawPeer.Word(answer.Body, 0));
        int length = (int)RawPeer.Word(answer.Body, 1);
        Assert.Equal(prefix + string.Concat(Enumerable.Repeat(unit, kept)), System.Text.Encoding.UTF8.GetString(answer.Body, 8, length));
    }

    private static byte[] ConnectBody => RawPeer.Words(MachProtocol.Version, MachProtocol.Version, 1 << 20, 512, MachProtocol.MaxInlinePayload);
}
