using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Asks the kernel which socket file a Unix socket is bound to (NETLINK_SOCK_DIAG, <c>UNIX_DIAG_VFS</c>): the only
/// way to prove that a listener that arrived as a receive right is the port its <c>O_PATH</c> names.
/// Layouts from include/uapi/linux/netlink.h, sock_diag.h and unix_diag.h.
/// </summary>
internal static unsafe class SocketDiag
{
    private const int NetlinkSockDiag = 4;
    private const ushort SockDiagByFamily = 20;
    private const ushort NlmFRequest = 1;
    private const ushort NlmsgError = 2;
    private const uint UdiagShowVfs = 0x2;
    private const ushort UnixDiagVfs = 1;
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

    /// <summary>The (device, inode) of the socket file a bound Unix socket <paramref name="fd"/> was bound to (also after an unlink).</summary>
    public static bool BoundInode(int fd, out ulong inode, out uint device)
    {
        inode = 0;
        device = 0;
        Libc.Statx stat;
        if (Libc.statx(fd, string.Empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &stat) != 0)
        {
            return false;
        }

        Span<uint> vfs = stackalloc uint[2]; // struct unix_diag_vfs { u32 udiag_vfs_ino; u32 udiag_vfs_dev; }
        if (!Query((uint)stat.Inode, UdiagShowVfs, UnixDiagVfs, vfs))
        {
            return false;
        }

        inode = vfs[0];
        device = vfs[1];
        return true;
    }

    /// <summary>Asks for <paramref name="show"/> about the Unix socket with inode <paramref name="inode"/>; copies attribute <paramref name="attribute"/>.</summary>
    private static bool Query(uint inode, uint show, ushort attribute, Span<uint> payload)
    {
        int fd = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, NetlinkSockDiag);
        if (fd < 0)
        {
            return false;
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
                Show = show,
                Cookie0 = uint.MaxValue, // INET_DIAG_NOCOOKIE: look up by inode alone
                Cookie1 = uint.MaxValue,
            };
            if (Libc.send(fd, &request, (nuint)sizeof(Request), 0) != sizeof(Request))
            {
                return false;
            }

            byte* reply = stackalloc byte[512];
            nint length = Libc.recv(fd, reply, 512, 0);
            if (length < NlmsgHeaderSize + UnixDiagMsgSize || *(ushort*)(reply + 4) == NlmsgError)
            {
                return false;
            }

            int end = (int)Math.Min(length, *(uint*)reply);
            if (*(uint*)(reply + NlmsgHeaderSize + 4) != inode)
            {
                return false;
            }

            // rtattr list: { u16 len; u16 type; } then the payload, each aligned to 4.
            for (int offset = NlmsgHeaderSize + UnixDiagMsgSize; offset + 4 <= end;)
            {
                ushort attributeLength = *(ushort*)(reply + offset);
                if (attributeLength < 4 || offset + attributeLength > end)
                {
                    return false;
                }

                if (*(ushort*)(reply + offset + 2) == attribute && attributeLength >= 4 + (payload.Length * sizeof(uint)))
                {
                    new ReadOnlySpan<uint>(reply + offset + 4, payload.Length).CopyTo(payload);
                    return true;
                }

                offset += (attributeLength + 3) & ~3;
            }

            return false;
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }
}
