using System.Net.Sockets;

namespace MachTransport.Tests.Transport;

/// <summary>
/// Raw holders, as a hostile process of the same user makes them: SEQPACKET sockets connected to another process's
/// ports through the port <c>O_PATH</c>s in its descriptor table (<c>/proc/&lt;pid&gt;/fd</c>).
/// </summary>
internal static class RawHolders
{
    /// <summary>The <c>/proc</c> paths of the port <c>O_PATH</c>s in <paramref name="pid"/>'s table whose listeners are not in this process.</summary>
    public static List<string> ServerPorts(int pid)
    {
        HashSet<string> ours = OwnListenerFiles();
        return [.. PortFiles(pid).Where(port => !ours.Contains(port.File[..^" (deleted)".Length])).Select(port => port.Fd)];
    }

    /// <summary>The files this process's listening sockets are bound to (/proc/net/unix: inode and path of each bound socket).</summary>
    private static HashSet<string> OwnListenerFiles()
    {
        HashSet<string> inodes = [];
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
            catch (IOException)
            {
            }
        }

        HashSet<string> files = [];
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && inodes.Contains(fields[6]))
            {
                files.Add(fields[7]);
            }
        }

        return files;
    }

    /// <summary>Port sockets' files (bound, then unlinked: "…/p.&lt;hex&gt; (deleted)") open in <paramref name="pid"/>.</summary>
    private static IEnumerable<(string Fd, string File)> PortFiles(int pid)
    {
        foreach (string fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string? target = null;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
            }

            if (target is not null && Path.GetFileName(target).StartsWith("p.", StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal))
            {
                yield return (fd, target);
            }
        }
    }

    /// <summary>Up to <paramref name="count"/> raw SEQPACKET sockets connected through <paramref name="path"/>, as a hostile holder makes them.</summary>
    public static List<Socket> Connect(string path, int count)
    {
        var sockets = new List<Socket>(count);
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { Blocking = false };
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                sockets.Add(socket);
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        return sockets;
    }
}
