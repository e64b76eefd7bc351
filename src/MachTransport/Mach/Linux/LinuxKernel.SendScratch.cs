using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>The per-thread state of one send: the descriptors it holds open and carries, and the rights and regions copy-in took.</summary>
internal sealed partial class LinuxKernel
{
    /// <summary>Per-thread lists reused by every send, so a send allocates nothing in steady state.</summary>
    private sealed class SendScratch
    {
        private readonly List<LinuxFd?> _held = [];
        private readonly List<LinuxFd> _ownedMemfds = [];
        private readonly List<int> _fdNumbers = [];
        private readonly List<(uint First, uint Count)> _ringRuns = [];
        private OolSendRing? _ring;
        private LinuxFd? _connected;

        public List<(PortEntry Entry, MachMsgTypeName Disposition)> Carried { get; } = [];

        public List<OutOfLineRegion> Regions { get; } = [];

        public int FdCount => _held.Count - 1; // the destination is held but not carried

        public ReadOnlySpan<int> FdNumbers => CollectionsMarshal.AsSpan(_fdNumbers);

        /// <summary>Keeps <paramref name="fd"/> open until <see cref="Reset"/>; all but the first (the destination) are carried.</summary>
        public void Hold(LinuxFd fd)
        {
            bool added = false;
            fd.DangerousAddRef(ref added);
            if (_held.Count > 0)
            {
                _fdNumbers.Add(fd.Number);
            }

            _held.Add(fd);
        }

        /// <summary>The destination port was full at copy-in: the first held descriptor is its <c>O_PATH</c>, not a connection.</summary>
        public bool DestinationFull { get; set; }

        /// <summary>Keeps <paramref name="fd"/>, the connection a send made after copy-in, open until <see cref="Reset"/>; not carried.</summary>
        public void HoldDestination(LinuxFd fd)
        {
            bool added = false;
            fd.DangerousAddRef(ref added);
            _connected = fd;
        }

        public void ReserveFd()
        {
            _held.Add(null);
            _fdNumbers.Add(-1);
        }

        /// <summary>Fills the next reserved slot with a memfd; the scratch owns it (closes it on reset) if <paramref name="owned"/>.</summary>
        public void FillReservedFd(LinuxFd memfd, bool owned)
        {
            int slot = _held.IndexOf(null);
            bool added = false;
            memfd.DangerousAddRef(ref added);
            _held[slot] = memfd;
            _fdNumbers[slot - 1] = memfd.Number;
            if (owned)
            {
                _ownedMemfds.Add(memfd);
            }
        }

        /// <summary>The next reserved slot carries nothing after all (a payload in the ring the receiver already holds).</summary>
        public void DropReservedFd()
        {
            int slot = _held.IndexOf(null);
            _held.RemoveAt(slot);
            _fdNumbers.RemoveAt(slot - 1);
        }

        /// <summary>Keeps <paramref name="fd"/> open until <see cref="Reset"/>, carried, and closes it then (the scratch owns it).</summary>
        public void HoldOwned(LinuxFd fd)
        {
            Hold(fd);
            _ownedMemfds.Add(fd);
        }

        /// <summary>The destination's ring, leased (by the caller) for this send; released on reset.</summary>
        public OolSendRing? Ring => _ring;

        public void HoldRing(OolSendRing ring) => _ring = ring;

        /// <summary>A run claimed in <see cref="Ring"/>: given back on reset unless the datagram was queued.</summary>
        public void AddRingRun(uint first, uint count) => _ringRuns.Add((first, count));

        /// <summary>The datagram is queued: its runs are the receiver's to free now.</summary>
        public void KeepRingRuns() => _ringRuns.Clear();

        public void Reset()
        {
            foreach (LinuxFd? fd in _held)
            {
                fd?.DangerousRelease();
            }

            foreach (LinuxFd memfd in _ownedMemfds)
            {
                memfd.Dispose();
            }

            foreach ((uint first, uint count) in _ringRuns)
            {
                _ring!.Release(first, count);
            }

            _ring?.DangerousRelease();
            _ring = null;
            _ringRuns.Clear();

            _connected?.DangerousRelease();
            _connected = null;
            DestinationFull = false;
            _held.Clear();
            _ownedMemfds.Clear();
            _fdNumbers.Clear();
            Carried.Clear();
            Regions.Clear();
        }
    }
}
