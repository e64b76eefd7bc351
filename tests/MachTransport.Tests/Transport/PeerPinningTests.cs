using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using MachTransport.Tests.MachLayer;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.Transport;

/// <summary>
/// A send right to a connection's port can leak to a third process; what that process sends is dropped,
/// because each side accepts messages only from the pid it saw at the handshake.
/// </summary>
[Trait("Category", "Hostile")]
public sealed class PeerPinningTests
{
    [Fact]
    public async Task DataFromAThirdProcessIsDroppedOnBothSidesOfAConnection()
    {
        await using TransportHost host = await TransportHost.StartAsync("pinning");
        MachChannel victim = await MachClientConnector.ConnectAsync(host.Service, new MachClientOptions(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await using (victim)
        {
            // A third process gets send rights to both ports of the connection and sends well-formed DATA to each.
            string relayName = TestEnvironment.UniqueServiceName("relay");
            using MachReceiveRight relay = MachBootstrap.CheckIn(Kernel, relayName);
            await using ChildProcess intruder = ChildProcess.Start("MachTransport.MachPeer", "forge", relayName);
            ReceivedMessage request = await Task.Run(() => MachTestMessages.Receive(relay.Name, timeoutMilliseconds: 30_000));
            Assert.Equal(5, request.Header.Id);
            Assert.Equal(intruder.Id, request.Trailer.Audit.Pid);

            byte[] forgedBytes = Encoding.ASCII.GetBytes("FORGED!!");
            byte[] instructions = [.. BitConverter.GetBytes(MachProtocol.Data), .. BitConverter.GetBytes(forgedBytes.Length), .. forgedBytes];
            Assert.Equal(MachMsgReturn.Success, Send(request.Header.RemotePort, MachMsgTypeName.MoveSendOnce, 6, instructions, attachments:
                [Attachment.Port(victim.PortName, MachMsgTypeName.MakeSend), Attachment.Port(victim.PeerPortName, MachMsgTypeName.CopySend)]));
            Assert.Equal("SENT", await intruder.ReadLineAsync());
            await intruder.WaitForExitAsync();
            Assert.Equal(0, intruder.ExitCode);

            // Had the server taken the forged DATA, Kestrel would have read it before the preface and closed the
            // connection; had the client taken it, it would be the first bytes read. Both sides must have dropped it.
            victim.Output.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            victim.Output.Write(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }); // empty SETTINGS
            await victim.Output.FlushAsync();

            ReadResult read;
            while (true)
            {
                read = await victim.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                if (read.Buffer.Length >= 9 || read.IsCompleted)
                {
                    break;
                }

                victim.Input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }

            byte[] frameHeader = read.Buffer.Slice(0, 9).ToArray();
            victim.Input.AdvanceTo(read.Buffer.End);
            Assert.Equal(4, frameHeader[3]); // the server's SETTINGS frame comes first
            Assert.Equal(0, frameHeader[4] & 0x1); // not an ACK: it is the server's own SETTINGS
        }
    }
}
