// The client side of a connection played by the test with raw Mach messages (the handshake by hand, then DATA,
// CREDIT, FIN and ABORT as docs/protocol.md lays them out), against a real server channel: what the server sends
// can be read message by message, descriptors included, and anything can be sent to it.
using MachTransport.Channel;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Protocol;

internal sealed class RawPeer : IAsyncDisposable
{
    private const int ReceiveBufferSize = MachProtocol.ReceiveBufferSize + 64;

    private readonly MachReceiveRight _port;
    private readonly MachSendRight _connection;

    private RawPeer(ProtocolServer host, MachReceiveRight port, MachSendRight connection, MachChannel server, MachWindow serverWindow)
    {
        Host = host;
        _port = port;
        _connection = connection;
        Server = server;
        ServerWindow = serverWindow;
    }

    /// <summary>The listener this peer connected to (owned by the peer).</summary>
    public ProtocolServer Host { get; }

    /// <summary>The server's channel of this connection.</summary>
    public MachChannel Server { get; }

    /// <summary>The window the server announced in ACCEPT.</summary>
    public MachWindow ServerWindow { get; }

    /// <summary>The server's connection port (where DATA, CREDIT, FIN and ABORT of this peer go).</summary>
    public uint ConnectionPort => _connection.Name;

    /// <summary>Connects with the window this peer announces: what the server may send before CREDIT, and inline.</summary>
    public static async Task<RawPeer> ConnectAsync(
        MachTransportOptions? server = null, uint byteWindow = 1 << 20, uint messageWindow = 512, uint maxInline = MachProtocol.MaxInlinePayload)
    {
        ProtocolServer host = ProtocolServer.Bind(server);
        MachReceiveRight port = MachReceiveRight.Allocate(Kernel);
        try
        {
            port.SetQueueLimit(MachPort.QueueLimitMax);
            using (MachSendRight service = MachBootstrap.LookUp(Kernel, host.Service))
            {
                byte[] body = Words(MachProtocol.Version, MachProtocol.Version, byteWindow, messageWindow, maxInline);
                Assert.Equal(MachMsgReturn.Success, Send(service.Name, MachMsgTypeName.CopySend, MachProtocol.Connect, body,
                    attachments: [Attachment.Port(port.Name, MachMsgTypeName.MakeSend)]));
            }

            ReceivedMessage accept = await Task.Run(() => Receive(port.Name));
            Assert.Equal(MachProtocol.Accept, accept.Header.Id);
            var connection = new MachSendRight(Kernel, accept.Descriptors[0].Name);
            var window = new MachWindow(Word(accept.Body, 1), Word(accept.Body, 2), Word(accept.Body, 3));
            return new RawPeer(host, port, connection, await host.AcceptAsync(), window);
        }
        catch
        {
            port.Dispose();
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>The next message the server sent us (an out-of-line region it carried is released at once).</summary>
    public async Task<ReceivedMessage> ReceiveAsync()
    {
        ReceivedMessage message = await Task.Run(() => Receive(_port.Name, (uint)ProtocolServer.Bound.TotalMilliseconds, ReceiveBufferSize));
        Assert.Equal(MachMsgReturn.Success, message.Result);
        foreach (MachDescriptor descriptor in message.Descriptors.Where(d => d.Type == MachMsgDescriptorType.Ool && d.Address != 0))
        {
            new MachOolRegion(Kernel, descriptor.Address, descriptor.Size).Dispose();
        }

        return message;
    }

    /// <summary>The next message, which must be DATA: its payload (an out-of-line region copied, then released) and whether it came out of line.</summary>
    public async Task<(byte[] Payload, bool OutOfLine)> ReceiveDataAsync()
    {
        ReceivedMessage message = await Task.Run(() => Receive(_port.Name, (uint)ProtocolServer.Bound.TotalMilliseconds, ReceiveBufferSize));
        Assert.Equal(MachMsgReturn.Success, message.Result);
        Assert.Equal(MachProtocol.Data, message.Header.Id);
        int length = (int)Word(message.Body, 0);
        foreach (MachDescriptor descriptor in message.Descriptors)
        {
            if (descriptor.Type == MachMsgDescriptorType.Ool && descriptor.Address != 0)
            {
                Assert.Equal((uint)length, descriptor.Size);
                using var region = new MachOolRegion(Kernel, descriptor.Address, descriptor.Size);
                return (CopyOut(descriptor.Address, length), true);
            }
        }

        return (message.Body.AsSpan(4, length).ToArray(), false);
    }

    private static unsafe byte[] CopyOut(ulong address, int length) => new ReadOnlySpan<byte>((void*)address, length).ToArray();

    /// <summary>True when nothing is queued for us now.</summary>
    public bool IsQuiet() => Receive(_port.Name, timeoutMilliseconds: 0, ReceiveBufferSize).Result == MachMsgReturn.ReceiveTimedOut;

    public void SendData(int length) => Sent(Send(ConnectionPort, MachMsgTypeName.CopySend, MachProtocol.Data, [.. Words((uint)length), .. new byte[length]]));

    public void SendOutOfLineData(int length)
    {
        MachOolRegion region = MachOolRegion.Allocate(Kernel, (ulong)length);
        Sent(Send(ConnectionPort, MachMsgTypeName.CopySend, MachProtocol.Data, Words((uint)length),
            attachments: [Attachment.Memory(region.Address, (uint)length, deallocate: true)]));
        region.Detach();
    }

    public void SendCredit(uint bytes, uint messages) => Sent(Send(ConnectionPort, MachMsgTypeName.CopySend, MachProtocol.Credit, Words(bytes, messages)));

    public void SendFin() => Sent(Send(ConnectionPort, MachMsgTypeName.CopySend, MachProtocol.Fin));

    public void SendAbort(MachCloseReason reason) => Sent(Send(ConnectionPort, MachMsgTypeName.CopySend, MachProtocol.Abort, Words((uint)reason)));

    public static byte[] Words(params uint[] words)
    {
        byte[] body = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
        {
            MachProtocol.WriteU32(body, i, words[i]);
        }

        return body;
    }

    public static uint Word(byte[] body, int index) => MachProtocol.ReadU32(body, index);

    public async ValueTask DisposeAsync()
    {
        _connection.Dispose();
        _port.Dispose();
        await Host.DisposeAsync();
    }

    private static void Sent(MachMsgReturn result) => Assert.Equal(MachMsgReturn.Success, result);
}
