using System.Buffers.Binary;
using System.IO.Pipelines;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using MachTransport.Tests.Protocol;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

/// <summary>A client that sends raw garbage loses only its own connection; the server keeps serving and leaks nothing.</summary>
[Trait("Category", "Hostile")]
public sealed class HostileTests() : HostWithBystander("hostile")
{
    [Fact]
    public async Task GarbageOnTheServicePortIsDroppedAndReleased()
    {
        IMachKernel kernel = MachKernel.Current;
        long errorsBefore = (await Host.StatsAsync())["protocolErrors"];
        int fdsBefore = Host.CountOpenFds();
        Assert.Equal(BootstrapStatus.Success, kernel.BootstrapLookUp(Host.Service, out uint serviceName));
        using var service = new MachSendRight(kernel, serviceName);
        using MachReceiveRight reply = MachReceiveRight.Allocate(kernel);
        byte[] goodBody = ConnectBody(MachProtocol.Version, MachProtocol.Version);

        // Wrong id, empty.
        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, 0x1234));
        // CONNECT without a right and with a 3-byte body.
        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, new byte[3]));
        // CONNECT carrying a receive right and 1 MiB of out-of-line memory instead of a send right.
        MachReceiveRight smuggled = MachReceiveRight.Allocate(kernel);
        MachOolRegion region = MachOolRegion.Allocate(kernel, 1 << 20);
        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, goodBody, attachments:
            [Attachment.Port(smuggled.Name, MachMsgTypeName.MoveReceive), Attachment.Memory(region.Address, 1 << 20, deallocate: true)]));
        smuggled.Detach();
        region.Detach();
        // CONNECT with an extra reply right in the header.
        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, goodBody,
            reply.Name, MachMsgTypeName.MakeSend, attachments: [Attachment.Port(reply.Name, MachMsgTypeName.MakeSend)]));
        // CONNECT for a protocol version from the future: answered with REJECT (and counted, as the four above).
        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, ConnectBody(99, 99),
            attachments: [Attachment.Port(reply.Name, MachMsgTypeName.MakeSend)]));

        ReceivedMessage rejection = MachTestMessages.Receive(reply.Name);
        Assert.Equal(MachProtocol.Reject, rejection.Header.Id);
        Assert.Equal((uint)MachCloseReason.VersionMismatch, BinaryPrimitives.ReadUInt32LittleEndian(rejection.Body));

        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 5);
        Assert.Equal("hello HTTP/2", await Bystander.GetStringAsync("/hello"));
        service.Dispose(); // on Linux each holder's own connection is one of the server's descriptors while it holds the right
        await WaitForFdsAsync(fdsBefore);
    }

    [Theory]
    [MemberData(nameof(ProtocolGarbage.Kinds), MemberType = typeof(ProtocolGarbage))]
    public async Task GarbageOnAConnectionPortClosesOnlyThatConnection(string kind)
    {
        long errorsBefore = (await Host.StatsAsync())["protocolErrors"];
        MachChannel victim = await MachClientConnector.ConnectAsync(Host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await using (victim)
        {
            await Host.WaitForStatsAsync(s => s["active"] >= 2);
            // Each kind provably takes its own path: DataShapeTests checks the reason the channel logs for it.
            Assert.Equal(MachMsgReturn.Success, ProtocolGarbage.Send(kind, victim.PeerPortName));

            await AssertAbortedAsync(victim);
        }

        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 1 && s["active"] == 1);
        Assert.Equal("hello HTTP/2", await Bystander.GetStringAsync("/hello"));
    }

    [LinuxFact]
    public async Task RawMalformedDatagramsCloseOnlyTheConnectionTheyHit()
    {
        // On Linux a send right is a socket: a hostile peer can write bytes that are no Mach message at all.
        long errorsBefore = (await Host.StatsAsync())["protocolErrors"];
        using (MachSendRight service = MachBootstrap.LookUp(MachKernel.Current, Host.Service))
        using (LinuxFd serviceEnd = LinuxKernel.Instance.DuplicateSendEnd(service.Name))
        {
            Assert.Equal(0, SeqPacket.Send(serviceEnd.Number, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, []));
        }

        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 1);
        MachChannel victim = await MachClientConnector.ConnectAsync(Host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await using (victim)
        {
            await Host.WaitForStatsAsync(s => s["active"] >= 2);
            using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(victim.PeerPortName))
            {
                Assert.Equal(0, SeqPacket.Send(sendEnd.Number, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, []));
            }

            await AssertAbortedAsync(victim);
        }

        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 2 && s["active"] == 1);
        Assert.Equal("hello HTTP/2", await Bystander.GetStringAsync("/hello"));
        using HttpClient another = Host.CreateClient();
        Assert.Equal("hello HTTP/2", await another.GetStringAsync("/hello")); // the server still accepts
    }

    /// <summary>The server answers a violation with ABORT (or its port dies): the victim's reads fail, they do not just end.</summary>
    private static Task<IOException> AssertAbortedAsync(MachChannel victim) => Assert.ThrowsAnyAsync<IOException>(async () =>
    {
        while (true)
        {
            ReadResult result = await victim.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            victim.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                throw new InvalidOperationException("the connection ended without an error");
            }
        }
    });

    private async Task WaitForFdsAsync(int expected)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (Host.CountOpenFds() > expected)
        {
            await Task.Delay(20, deadline.Token);
        }
    }

    private static byte[] ConnectBody(uint min, uint max)
    {
        byte[] body = new byte[MachProtocol.ConnectBodySize];
        uint[] words = [min, max, 1 << 20, 64, 16384];
        for (int i = 0; i < words.Length; i++)
        {
            MachProtocol.WriteU32(body, i, words[i]);
        }

        return body;
    }

}
