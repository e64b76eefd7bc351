using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Out-of-line payloads through a ring shared with the destination port's owner (<see cref="OolRing"/>): made by
/// the sender on its first ring send to a port, carried with every datagram that names a run in it, reused for
/// every later send on the same connection; copied out by the receiver at receive time.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>
    /// Writes <paramref name="region"/> into a free run of the destination's ring and names the run in its wire
    /// descriptor; the datagram attaches the ring's memfd (out of its park for this send) until the receive right's
    /// owner says it holds the ring. False (with <paramref name="error"/> 0) when the ring cannot take it: the
    /// destination was full at copy-in, this is not the space's own connection to the port, no ring could be made, or
    /// no run is free (the peer has not received earlier payloads, or never frees them). A bad source address is EFAULT.
    /// </summary>
    private unsafe bool TryCarryInRing(Span<byte> bytes, OutOfLineRegion region, SendScratch scratch, PortEntry destination, out int error)
    {
        error = 0;
        OolSendRing? ring = scratch.Ring ?? LeaseSendRing(destination, scratch);
        if (ring is null)
        {
            return false;
        }

        LinuxFd? memfd = ring.ReceiverHoldsIt ? null : ring.TakeMemfd();
        if ((memfd is null && !ring.ReceiverHoldsIt) || !ring.TryClaim(region.Size, out uint first))
        {
            memfd?.Dispose();
            return false;
        }

        scratch.AddRingRun(first, OolRing.ChunksFor(region.Size));
        error = ring.Write(first, (byte*)region.Address, region.Size);
        if (error != 0)
        {
            memfd?.Dispose();
            return false;
        }

        MemoryMarshal.AsRef<MachMsgOolDescriptor>(bytes[region.Descriptor..]).Address = OolRing.WireAddress(first, attached: memfd is not null);
        if (memfd is not null)
        {
            scratch.FillReservedFd(memfd, owned: true); // closed once the datagram is sent
        }
        else
        {
            scratch.DropReservedFd();
        }

        return true;
    }

    /// <summary>
    /// The ring of this space's connection to <paramref name="entry"/>'s port, made now if there is none, leased for
    /// the send in <paramref name="scratch"/>; null if there is no connection yet (the port was full at copy-in), if
    /// <paramref name="entry"/> is not the port's own entry in this space (a send-once right's entry shares the
    /// connection, and a connection carries one ring), or if no ring can be made.
    /// </summary>
    private OolSendRing? LeaseSendRing(PortEntry entry, SendScratch scratch)
    {
        lock (_lock)
        {
            if (scratch.DestinationFull || entry.Send is null
                || !_byPortId.TryGetValue(entry.PortId, out PortEntry? indexed) || indexed != entry)
            {
                return null;
            }

            if (entry.Ring is null || entry.RingConnection != entry.Send)
            {
                DropRing(entry);
                entry.Ring = OolSendRing.Create();
                entry.RingConnection = entry.Send;
                if (entry.Ring is null)
                {
                    return null;
                }
            }

            bool added = false;
            entry.Ring.DangerousAddRef(ref added);
            scratch.HoldRing(entry.Ring);
            return entry.Ring;
        }
    }

    /// <summary>Lets go of the entry's ring (caller holds _lock); it is unmapped once no send uses it.</summary>
    private static void DropRing(PortEntry entry)
    {
        entry.Ring?.Dispose();
        entry.Ring = null;
        entry.RingConnection = null;
    }

    /// <summary>
    /// The receiver's copy of a payload a peer named in its ring, in a pooled region (0 if refused). The connection's
    /// ring is mapped from the first datagram that attaches one (<paramref name="fd"/>; -1 when the datagram names a run
    /// in the ring the connection already delivered, refused if there is none); every later datagram that attaches one
    /// must attach the same file (a second ring on one connection is refused). The copy counts against the datagram's
    /// <paramref name="copyBudget"/>: a claim beyond it is refused, never copied.
    /// </summary>
    private unsafe ulong ReceiveFromRing(int fd, ulong wireAddress, uint size, RingSource source, ref ulong copyBudget)
    {
        if (size > copyBudget || source.Queue is null)
        {
            return 0;
        }

        OolReceiveRing? ring;
        lock (_lock)
        {
            ring = source.Queue.LeaseRing(source.Key);
        }

        if (ring is null)
        {
            OolReceiveRing? mapped = fd < 0 ? null : OolReceiveRing.TryMap(fd);
            if (mapped is null)
            {
                return 0;
            }

            lock (_lock)
            {
                ring = source.Queue.TryAdoptRing(source.Key, mapped) ? mapped : source.Queue.LeaseRing(source.Key);
                if (ring == mapped)
                {
                    bool added = false;
                    ring.DangerousAddRef(ref added);
                }
            }

            if (ring != mapped)
            {
                mapped.Dispose(); // another receive adopted one meanwhile, or the connection went
                if (ring is null)
                {
                    return 0;
                }
            }
            else
            {
                ring.TellSender(); // from now on its datagrams need not attach the ring
            }
        }

        try
        {
            if (fd >= 0 && !ring.IsFileOf(fd))
            {
                return 0;
            }

            ulong address = _receivedRegions.Rent(size);
            if (address == 0)
            {
                return 0;
            }

            if (!ring.TryCopyOut(OolRing.FirstChunk(wireAddress), size, (byte*)address))
            {
                _receivedRegions.Discard(address);
                return 0;
            }

            copyBudget -= size;

            // The rest of the last page reads as zeros, as in a fresh Mach region; a reused one may hold older data.
            new Span<byte>((byte*)address + size, (int)(RoundToPage(size) - size)).Clear();
            return address;
        }
        finally
        {
            ring.DangerousRelease();
        }
    }

    /// <summary>
    /// The memfds of the rings the holders of the port <paramref name="name"/> names brought, out of their parks, as a
    /// hostile receiver would hold them (tests attack senders through them; the caller closes them); empty if none.
    /// </summary>
    internal List<LinuxFd> TakeReceivedRings(uint name)
    {
        var rings = new List<LinuxFd>();
        lock (_lock)
        {
            if (_ports.TryGetValue(name, out PortEntry? entry) && entry.Receive is not null)
            {
                entry.Receive.TakeRingMemfds(rings);
            }
        }

        return rings;
    }

    /// <summary>The connection a datagram came from, whose ring its ring payloads are in.</summary>
    private readonly record struct RingSource(PortQueue? Queue, ulong Key);
}
