using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using Xunit;
using MachTransport.Tests.MachLayer;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

/// <summary>
/// A same-user process sending what no well-behaved peer sends to a server's ports: it loses its own connection,
/// never the server process, the server's other connections or the service.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class HostileChannelTests() : HostWithBystander("hostile-channel")
{
    [Fact]
    public async Task OutOfLineDataOf3GiBClosesOnlyThatConnection()
    {
        // Sparse on Linux, copy-on-write on Darwin: the attacker pays nothing for the size it claims.
        const uint size = 3u << 30;
        long errorsBefore = (await Host.StatsAsync())["protocolErrors"];
        MachChannel victim = await ConnectAsync();
        await using (victim)
        {
            await Host.WaitForStatsAsync(s => s["active"] >= 2);
            MachOolRegion region = MachOolRegion.Allocate(Kernel, size);
            MachMsgReturn sent = Send(victim.PeerPortName, MachMsgTypeName.CopySend, MachProtocol.Data, DataPrefix(size),
                attachments: [Attachment.Memory(region.Address, size, deallocate: true)]);
            Assert.Equal(MachMsgReturn.Success, sent);
            region.Detach();

            await AssertAbortedAsync(victim);
        }

        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 1 && s["active"] == 1);
        Assert.False(Host.HasExited);
        Assert.Equal("hello HTTP/2", await Bystander.GetStringAsync("/hello"));
    }

    [Fact]
    public async Task OversizedMessagesOnTwoConnectionsCloseThoseTwoAndTheServiceGoesOn()
    {
        long errorsBefore = (await Host.StatsAsync())["protocolErrors"];
        MachChannel first = await ConnectAsync();
        MachChannel second = await ConnectAsync();
        await using (first)
        await using (second)
        {
            await Host.WaitForStatsAsync(s => s["active"] >= 3);
            // Larger than any message the protocol allows (64 KiB inline), each a little larger than the last.
            Assert.Equal(MachMsgReturn.Success, Send(first.PeerPortName, MachMsgTypeName.CopySend, MachProtocol.Data, DataPrefix(80_000, 80_000)));
            Assert.Equal(MachMsgReturn.Success, Send(second.PeerPortName, MachMsgTypeName.CopySend, MachProtocol.Data, DataPrefix(120_000, 120_000)));

            await AssertAbortedAsync(first);
            await AssertAbortedAsync(second);
        }

        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 2 && s["active"] == 1);
        Assert.Equal("hello HTTP/2", await Bystander.GetStringAsync("/hello"));
        using HttpClient another = Host.CreateClient();
        Assert.Equal("hello HTTP/2", await another.GetStringAsync("/hello"));
    }

    [LinuxFact]
    public async Task MemoryTheServerCannotMapClosesOnlyThatConnection()
    {
        // The emulation reports such a region as XNU does, MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE: the loop must
        // read the code without its special bits.
        long errorsBefore = (await Host.StatsAsync())["protocolErrors"];
        MachChannel victim = await ConnectAsync();
        await using (victim)
        {
            await Host.WaitForStatsAsync(s => s["active"] >= 2);
            byte[] datagram = new byte[Unsafe.SizeOf<MachMsgHeader>() + sizeof(uint) + Unsafe.SizeOf<MachMsgOolDescriptor>()];
            var header = new MachMsgHeader
            {
                Bits = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend, complex: true),
                Size = (uint)datagram.Length,
                Id = MachProtocol.Data,
            };
            MemoryMarshal.Write(datagram, in header);
            MemoryMarshal.Write(datagram.AsSpan(Unsafe.SizeOf<MachMsgHeader>()), 1u);
            MemoryMarshal.Write(datagram.AsSpan(Unsafe.SizeOf<MachMsgHeader>() + sizeof(uint)), MachMsgOolDescriptor.Create(1, 4096, false, MachMsgCopyOptions.VirtualCopy));
            using var unsealed = new LinuxFd(Libc.memfd_create("unsealed", Libc.MFD_CLOEXEC));
            Assert.Equal(0, Libc.ftruncate(unsealed.Number, 4096));
            using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(victim.PeerPortName))
            {
                Assert.Equal(0, SeqPacket.Send(sendEnd.Number, datagram, [unsealed.Number]));
            }

            await AssertAbortedAsync(victim);
        }

        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 1 && s["active"] == 1);
        using HttpClient another = Host.CreateClient();
        Assert.Equal("hello HTTP/2", await another.GetStringAsync("/hello"));
    }

    [Fact]
    public async Task ASecondConnectWithAConnectedClientPortIsDroppedAndTheFirstConnectionStaysWatched()
    {
        long errorsBefore = (await Host.StatsAsync())["protocolErrors"];
        using MachSendRight service = MachBootstrap.LookUp(Kernel, Host.Service);
        MachReceiveRight client = MachReceiveRight.Allocate(Kernel);
        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, ConnectBody(), attachments: [Attachment.Port(client.Name, MachMsgTypeName.MakeSend)]));
        ReceivedMessage accept = Receive(client.Name);
        Assert.Equal(MachProtocol.Accept, accept.Header.Id);
        Assert.Equal(KernReturn.Success, Kernel.Deallocate(accept.Descriptors[0].Name));
        await Host.WaitForStatsAsync(s => s["active"] == 2);

        Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, ConnectBody(), attachments: [Attachment.Port(client.Name, MachMsgTypeName.MakeSend)]));
        await Host.WaitForStatsAsync(s => s["protocolErrors"] == errorsBefore + 1);
        Assert.Equal(2, (await Host.StatsAsync())["active"]);

        // The first connection must still hear of its client's end: no zombie left behind.
        client.Dispose();
        await Host.WaitForStatsAsync(s => s["active"] == 1);
    }

    private Task<MachChannel> ConnectAsync()
        => MachClientConnector.ConnectAsync(Host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>The server answers a violation with ABORT (or its port dies): the victim's reads fail, they do not just end.</summary>
    internal static Task<IOException> AssertAbortedAsync(MachChannel victim) => Assert.ThrowsAnyAsync<IOException>(async () =>
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

    private static byte[] ConnectBody()
    {
        byte[] body = new byte[MachProtocol.ConnectBodySize];
        uint[] words = [MachProtocol.Version, MachProtocol.Version, 1 << 20, 64, 16384];
        for (int i = 0; i < words.Length; i++)
        {
            MachProtocol.WriteU32(body, i, words[i]);
        }

        return body;
    }

    private static byte[] DataPrefix(uint claimed, int actualBytes = 0)
    {
        byte[] body = new byte[MachProtocol.DataPrefixSize + actualBytes];
        MachProtocol.WriteU32(body, 0, claimed);
        return body;
    }
}
