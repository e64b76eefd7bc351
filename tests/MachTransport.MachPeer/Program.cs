using System.Runtime.InteropServices;
using System.Security.Cryptography;
using MachTransport;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;

// A peer process for the Mach layer's cross-process tests.
//   serve <name>  check <name> in, print READY, answer requests until killed:
//                 id 1: reply on the send-once reply right with [pid, uid, seen pid, seen uid]
//                 id 2: SHA-256 the OOL region, send [pid, hash] to the carried send right (id 3)
//   call <name>   look <name> up, send id 4 carrying [pid] and 1 MiB OOL, print its SHA-256, exit
//   hold <name>   check <name> in, print READY, wait for stdin to close
//   hold-system <name>  the same in the system domain; prints the error's message instead of READY when refused
//   snoop <pid>   try to open every descriptor of process <pid> through /proc and its memory; print "REACHED <n>"
//   cycles <n>    allocate/send/receive-or-destroy <n> times; print "fds <before> <after>" (this process does nothing else)
//   forge <name>  look <name> up, ask it (id 5) for rights and a message; send that message to each right; print SENT
//   forge-receive <name>   send <name> a receive right made of an unrelated socket and <name>'s own send end; print SENT
//   ool-mutable <name>     send <name> an OOL memfd kept mapped writable; print SENT; on a stdin line write it over; print WRITTEN
//   shutdown|shrink <name> shut <name>'s shared send end down / shrink its send buffer; print DONE; hold until stdin closes
//   send-inline <name> <n> [later]  send <name> a message with n inline bytes (id 11); print the send result
//                          (later: look up, print LOOKED-UP, send once stdin closes)
//   exhaust <name>         check <name> in (CHECKED-IN), take one message, fill the descriptor table; print what the
//                          emulation answers, then READY; receive on <name> until stdin closes
//   connect <name> <ms>    connect to the transport service <name> (connect timeout <ms>); print CONNECTED or the error
//   inflight <n>           put <n> descriptors in flight in an unread socketpair; print INFLIGHT; hold until stdin closes
//   greedy <name>          open transport connections to <name> until it refuses one as busy; print "CONNECTED <n>";
//                          hold them until stdin closes
IMachKernel kernel = MachKernel.Current;
string command = args[0];
string serviceName = args[1];
switch (command)
{
    case "serve":
        using (MachReceiveRight service = MachBootstrap.CheckIn(kernel, serviceName))
        {
            Console.WriteLine("READY");
            Serve(kernel, service);
        }

        break;

    case "hold-system":
        Hostile.HoldSystemName(kernel, serviceName);
        break;

    case "snoop":
        Hostile.Snoop(int.Parse(serviceName, System.Globalization.CultureInfo.InvariantCulture));
        break;

    case "hold":
        using (MachBootstrap.CheckIn(kernel, serviceName))
        {
            Console.WriteLine("READY");
            _ = Console.In.ReadToEnd();
        }

        break;

    case "call":
        using (MachSendRight target = MachBootstrap.LookUp(kernel, serviceName))
        {
            using MachOolRegion region = MachOolRegion.Allocate(kernel, 1 << 20);
            RandomNumberGenerator.Fill(region.Span);
            string hash = Convert.ToHexString(SHA256.HashData(region.Span));
            byte[] buffer = new byte[128];
            var writer = new MachMessageWriter(buffer, 4, target.Name, MachMsgTypeName.CopySend, descriptorCount: 1);
            writer.AddOutOfLine(region.Address, (uint)region.Size, deallocate: true);
            writer.WriteInline(Environment.ProcessId);
            Check(Send(kernel, buffer, writer.Complete()));
            region.Detach();
            Console.WriteLine(hash);
        }

        break;

    case "forge":
        using (MachSendRight relay = MachBootstrap.LookUp(kernel, serviceName))
        using (MachReceiveRight inbox = MachReceiveRight.Allocate(kernel))
        {
            byte[] request = new byte[64];
            var asking = new MachMessageWriter(request, 5, relay.Name, MachMsgTypeName.CopySend, inbox.Name, MachMsgTypeName.MakeSendOnce);
            Check(Send(kernel, request, asking.Complete()));
            Forge(kernel, inbox);
            Console.WriteLine("SENT");
        }

        break;

    case "forge-receive":
        Hostile.ForgeReceiveRight(kernel, serviceName);
        Console.WriteLine("SENT");
        break;

    case "ool-mutable":
        Hostile.SendMutableMemory(kernel, serviceName);
        break;

    case "shutdown" or "shrink":
        Hostile.BreakSendEnd(kernel, serviceName, shutdown: command == "shutdown");
        break;

    case "send-inline":
        Hostile.SendInline(kernel, serviceName, int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), later: args.Length > 3 && args[3] == "later");
        break;

    case "connect":
        Console.WriteLine(ConnectAsync(serviceName, int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)).GetAwaiter().GetResult()); // Main stays synchronous: "cycles" counts its descriptors
        break;

    case "inflight":
        Hostile.HoldInFlight(int.Parse(serviceName, System.Globalization.CultureInfo.InvariantCulture));
        break;

    case "exhaust":
        Hostile.ExhaustDescriptors(kernel, serviceName);
        break;

    case "greedy":
        Greedy(serviceName).GetAwaiter().GetResult();
        break;

    case "cycles":
        _ = RunCycles(kernel, 1); // loads the assemblies the cycles use (their files are mapped descriptors)
        Console.WriteLine(RunCycles(kernel, int.Parse(serviceName, System.Globalization.CultureInfo.InvariantCulture)));
        break;

    default:
        Console.Error.WriteLine($"unknown command {command}");
        return 2;
}

return 0;

// Connects to the transport service: CONNECTED, or the error's message.
static async Task<string> ConnectAsync(string serviceName, int timeoutMilliseconds)
{
    var options = new MachTransport.MachClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(timeoutMilliseconds) };
    try
    {
        await using MachTransport.Channel.MachChannel channel = await MachTransport.Client.MachClientConnector.ConnectAsync(serviceName, options, CancellationToken.None);
        return "CONNECTED";
    }
    catch (IOException error)
    {
        return error.Message;
    }
}

// Opens transport connections until one is refused as busy: "CONNECTED <n>"; holds them until stdin closes.
static async Task Greedy(string serviceName)
{
    var connections = new List<MachTransport.Channel.MachChannel>();
    try
    {
        while (true)
        {
            connections.Add(await MachTransport.Client.MachClientConnector.ConnectAsync(serviceName, new MachTransport.MachClientOptions(), CancellationToken.None));
        }
    }
    catch (MachTransport.MachConnectionRejectedException rejected) when (rejected.Reason == MachTransport.MachRejectReason.ServerBusy)
    {
        Console.WriteLine($"CONNECTED {connections.Count}");
    }

    _ = await Console.In.ReadToEndAsync();
    foreach (MachTransport.Channel.MachChannel connection in connections)
    {
        await connection.DisposeAsync();
    }
}

static unsafe MachMsgReturn Send(IMachKernel kernel, byte[] buffer, int size)
{
    fixed (byte* message = buffer)
    {
        return kernel.MachMsg(message, MachMsgOption.SendMsg | MachMsgOption.SendTimeout, (uint)size, 0, 0, 10_000);
    }
}

static void Check(MachMsgReturn result)
{
    if (result != MachMsgReturn.Success)
    {
        throw new MachException($"send failed: {result}", (int)result);
    }
}

// Each cycle: two ports, a message carrying a send right to the second into the first, then either a receive
// (the carried right released by name) or the destruction of the queued message with its port; OOL every 10th.
static unsafe string RunCycles(IMachKernel kernel, int count)
{
    int before = Directory.GetFiles("/proc/self/fd").Length;
    byte[] buffer = new byte[512];
    for (int i = 0; i < count; i++)
    {
        using var port = MachReceiveRight.Allocate(kernel);
        using var carried = MachReceiveRight.Allocate(kernel);
        MachOolRegion? region = i % 10 == 0 ? MachOolRegion.Allocate(kernel, 4096) : null;
        var writer = new MachMessageWriter(buffer, i, port.Name, MachMsgTypeName.MakeSend, descriptorCount: region is null ? 1 : 2);
        writer.AddPort(carried.Name, MachMsgTypeName.MakeSend);
        if (region is not null)
        {
            writer.AddOutOfLine(region.Address, (uint)region.Size, deallocate: true);
        }

        writer.WriteInline(new byte[64]);
        Check(Send(kernel, buffer, writer.Complete()));
        region?.Detach();
        if (i % 2 == 0)
        {
            fixed (byte* message = buffer)
            {
                Check(kernel.MachMsg(message, MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveTimeout, 0, (uint)buffer.Length, port.Name, 10_000));
            }

            MachMessageReader.TryCreate(buffer, out MachMessageReader received, out _);
            foreach (MachDescriptor descriptor in received.Descriptors)
            {
                if (descriptor.Type == MachMsgDescriptorType.Port)
                {
                    new MachSendRight(kernel, descriptor.Name).Dispose();
                }
                else
                {
                    new MachOolRegion(kernel, descriptor.Address, descriptor.Size).Dispose();
                }
            }
        }
    }

    // Sockets other processes could write into are closed by the emulation's closing thread (Linux).
    _ = MachTransport.Mach.Linux.DeferredClose.WaitUntilClosed(TimeSpan.FromSeconds(30));
    return $"fds {before} {Directory.GetFiles("/proc/self/fd").Length}";
}

// The instructions arrive as: port descriptors (send rights to the victims), then [id][payload] inline.
static unsafe void Forge(IMachKernel kernel, MachReceiveRight inbox)
{
    byte[] buffer = new byte[4096];
    MachMsgReturn received;
    fixed (byte* message = buffer)
    {
        received = kernel.MachMsg(message, MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveTimeout, 0, (uint)buffer.Length, inbox.Name, 30_000);
    }

    Check(received);
    if (!MachMessageReader.TryCreate(buffer, out MachMessageReader instructions, out string? error))
    {
        throw new InvalidOperationException(error);
    }

    int id = BitConverter.ToInt32(instructions.Body);
    byte[] payload = instructions.Body[4..].ToArray();
    foreach (MachDescriptor victim in instructions.Descriptors)
    {
        using var right = new MachSendRight(kernel, victim.Name);
        byte[] forged = new byte[64 + payload.Length];
        var writer = new MachMessageWriter(forged, id, right.Name, MachMsgTypeName.CopySend);
        writer.WriteInline(payload);
        Check(Send(kernel, forged, writer.Complete()));
    }
}

static unsafe void Serve(IMachKernel kernel, MachReceiveRight service)
{
    byte[] buffer = new byte[4096];
    while (true)
    {
        MachMsgReturn received;
        fixed (byte* message = buffer)
        {
            received = kernel.MachMsg(message, MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveTrailerAudit, 0, (uint)buffer.Length, service.Name, 0);
        }

        if (received != MachMsgReturn.Success || !MachMessageReader.TryCreate(buffer, out MachMessageReader request, out _))
        {
            continue;
        }

        request.TryGetAuditTrailer(out MachMsgAuditTrailer trailer);
        MachMsgHeader header = request.Header;
        byte[] reply = new byte[256];
        switch (header.Id)
        {
            case 1:
                var whoami = new MachMessageWriter(reply, 101, header.RemotePort, MachMsgTypeName.MoveSendOnce);
                whoami.WriteInline(Environment.ProcessId);
                whoami.WriteInline(Libc.GetEffectiveUserId());
                whoami.WriteInline(trailer.Audit.Pid);
                whoami.WriteInline(trailer.Audit.EffectiveUid);
                Check(Send(kernel, reply, whoami.Complete()));
                break;

            case 2:
                uint answerTo = 0;
                byte[] hash = [];
                foreach (MachDescriptor descriptor in request.Descriptors)
                {
                    if (descriptor.Type == MachMsgDescriptorType.Port)
                    {
                        answerTo = descriptor.Name;
                    }
                    else
                    {
                        using var region = new MachOolRegion(kernel, descriptor.Address, descriptor.Size);
                        hash = SHA256.HashData(region.Span);
                    }
                }

                var answer = new MachMessageWriter(reply, 3, answerTo, MachMsgTypeName.MoveSend);
                answer.WriteInline(Environment.ProcessId);
                answer.WriteInline(hash);
                Check(Send(kernel, reply, answer.Complete()));
                break;
        }
    }
}

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();
}
