using System.Collections.Concurrent;
using MachTransport.Mach;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;

namespace MachTransport.Channel;

/// <summary>
/// Service ports of stopped acceptors (<see cref="MachAcceptor"/>), kept for the life of the process. launchd arms a
/// port-destroyed notification on the rights it hands out at check-in, so destroying a service's receive right may
/// give it back to launchd instead of removing the name: look-ups keep succeeding and CONNECTs queue unread until
/// each client's ConnectTimeout. Kept here, the port answers every CONNECT at once with REJECT "shutting down" (on the
/// process-wide loop), whichever way launchd behaves; an acceptor bound to the name again in this process takes the
/// port back, with whatever is queued on it. A service is its name and its domain (system or per-user).
/// </summary>
internal static class MachRetiredServices
{
    private static readonly ConcurrentDictionary<(string Name, bool System), Retired> s_retired = new();

    public static void Retire(string serviceName, bool systemDomain, MachReceiveRight port)
    {
        var retired = new Retired(port);
        MachReceiveLoop.Client.Register(port, retired);
        s_retired[(serviceName, systemDomain)] = retired;
    }

    /// <summary>The port of a stopped acceptor of the service, taken off the process-wide loop; null if none.</summary>
    public static MachReceiveRight? TryReclaim(string serviceName, bool systemDomain)
    {
        if (!s_retired.TryRemove((serviceName, systemDomain), out Retired? retired))
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
