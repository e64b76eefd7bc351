using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Asks the kernel which socket is the peer of a Unix socket (NETLINK_SOCK_DIAG, <c>UNIX_DIAG_PEER</c>): the only
/// way to prove that two descriptors that arrived as one receive right are the two ends of one socketpair.
/// Layouts from include/uapi/linux/netlink.h, sock_diag.h and unix_diag.h.
/// </summary>
internal static unsafe class SocketDiag
{
    private const int NetlinkSockDiag = 4;
    private const ushort SockDiagByFamily = 20;
    private const ushort NlmFRequest = 1;
    private const ushort NlmsgError = 2;
    private const uint UdiagShowPeer = 0x4;
    private const ushort UnixDiagPeer = 2;
    private const int NlmsgHeaderSize = 16;
    private const int UnixDiagMsgSize = 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct Request
    {
        public uint Length;
        public ushort Type;
        public ushort Flags;
        public uint Sequence;
        public uint Port;
        public byte Family;
        public byte Protocol;
        public ushort Pad;
        public uint States;
        public uint Inode;
        public uint Show;
        public uint Cookie0;
        public uint Cookie1;
    }

    /// <summary>The inode of <paramref name="fd"/>'s socket, or 0 if it is none.</summary>
    public static uint Inode(int fd)
    {
        Libc.Statx stat;
        return Libc.statx(fd, string.Empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &stat) == 0 ? (uint)stat.Inode : 0;
    }

    /// <summary>Whether <paramref name="receive"/> and <paramref name="send"/> are the two ends of one socketpair.</summary>
    public static bool ArePeers(int receive, int send)
    {
        uint receiveInode = Inode(receive);
        uint sendInode = Inode(send);
        return receiveInode != 0 && sendInode != 0 && receiveInode != sendInode && PeerInode(receiveInode) == sendInode;
    }

    /// <summary>The inode of the peer of the Unix socket with inode <paramref name="inode"/>, or 0 (none, or no answer).</summary>
    private static uint PeerInode(uint inode)
    {
        int fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, NetlinkSockDiag);
        if (fd < 0)
        {
            return 0;
        }

        try
        {
            var request = new Request
            {
                Length = (uint)sizeof(Request),
                Type = SockDiagByFamily,
                Flags = NlmFRequest,
                Family = Libc.AF_UNIX,
                States = uint.MaxValue,
                Inode = inode,
                Show = UdiagShowPeer,
                Cookie0 = uint.MaxValue, // INET_DIAG_NOCOOKIE: look up by inode alone
                Cookie1 = uint.MaxValue,
            };
            if (Libc.send(fd, &request, (nuint)sizeof(Request), 0) != sizeof(Request))
            {
                return 0;
            }

            byte* reply = stackalloc byte[512];
            nint length = Libc.recv(fd, reply, 512, 0);
            if (length < NlmsgHeaderSize + UnixDiagMsgSize || *(ushort*)(reply + 4) == NlmsgError)
            {
                return 0;
            }

            int end = (int)Math.Min(length, *(uint*)reply);
            if (*(uint*)(reply + NlmsgHeaderSize + 4) != inode)
            {
                return 0;
            }

            // rtattr list: { u16 len; u16 type; } then the payload, each aligned to 4.
            for (int offset = NlmsgHeaderSize + UnixDiagMsgSize; offset + 4 <= end;)
            {
                ushort attributeLength = *(ushort*)(reply + offset);
                if (attributeLength < 4 || offset + attributeLength > end)
                {
                    return 0;
                }

                if (*(ushort*)(reply + offset + 2) == UnixDiagPeer && attributeLength >= 8)
                {
                    return *(uint*)(reply + offset + 4);
                }

                offset += (attributeLength + 3) & ~3;
            }

            return 0;
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }
}
