using System.Collections.Concurrent;
using MachTransport.Channel;
using MachTransport.Mach;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;

namespace MachTransport.Server;

/// <summary>
/// Service ports of stopped listeners, kept for the life of the process. launchd arms a port-destroyed notification
/// on the rights it hands out at check-in, so destroying a service's receive right may give it back to launchd
/// instead of removing the name: look-ups keep succeeding and CONNECTs queue unread until each client's
/// ConnectTimeout. Kept here, the port answers every CONNECT at once with REJECT "shutting down" (on the
/// process-wide loop), whichever way launchd behaves; a listener bound to the name again in this process takes the
/// port back, with whatever is queued on it.
/// </summary>
internal static class MachRetiredServices
{
    private static readonly ConcurrentDictionary<MachEndPoint, Retired> s_retired = new(); // a name and its domain

    public static void Retire(MachEndPoint endPoint, MachReceiveRight port)
    {
        var retired = new Retired(port);
        MachReceiveLoop.Client.Register(port, retired);
        s_retired[endPoint] = retired;
    }

    /// <summary>The port of a stopped listener of <paramref name="endPoint"/>, taken off the process-wide loop; null if none.</summary>
    public static MachReceiveRight? TryReclaim(MachEndPoint endPoint)
    {
        if (!s_retired.TryRemove(endPoint, out Retired? retired))
        {
            return null;
        }

        MachReceiveLoop.Client.Release(retired.Port);
        return retired.Port;
    }

    private sealed class Retired(MachReceiveRight port) : IMachPortHandler
    {
        public MachReceiveRight Port => port;

        public void OnMessage(in MachMessageReader message)
        {
            IMachKernel kernel = MachReceiveLoop.Client.Kernel;
            if (message.Id == MachProtocol.Connect && MachCodec.TryParseConnect(message, out uint client, out _, out _, out _))
            {
                MachSender.SendReject(kernel, client, MachCloseReason.ShuttingDown, "the listener stopped");
            }

            MachMessageDisposal.Destroy(kernel, message);
        }

        public void OnDeadName(uint deadName) => MachReceiveLoop.Client.Kernel.Deallocate(deadName);

        public void OnFailed(Exception error)
        {
            // One CONNECT went unanswered (the loop logged why); the port keeps answering the next ones.
        }
    }
}
