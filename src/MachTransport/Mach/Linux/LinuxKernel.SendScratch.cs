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

        /// <summary>Fills the next reserved slot with a memfd the scratch then owns.</summary>
        public void FillReservedFd(LinuxFd memfd)
        {
            int slot = _held.IndexOf(null);
            bool added = false;
            memfd.DangerousAddRef(ref added);
            _held[slot] = memfd;
            _fdNumbers[slot - 1] = memfd.Number;
            _ownedMemfds.Add(memfd);
        }

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
