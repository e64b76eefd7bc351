using System.Globalization;
using System.Runtime.InteropServices;
using MachTransport.Mach.Linux;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// A pipe whose lock a hostile process holds: a thread sleeps in splice from an idle socket into the pipe, holding the
/// pipe's mutex, so whoever releases the last reference to <see cref="ReadEnd"/> waits until <see cref="Dispose"/>.
/// </summary>
internal sealed unsafe partial class LockedPipe : IDisposable
{
    private readonly int _writeEnd;
    private readonly int _idleEnd;
    private readonly int _feeder;
    private readonly Thread _splicer;
    private Thread? _readEndCloser;
    private int _splicerTid;
    private bool _released;

    public LockedPipe()
    {
        int* ends = stackalloc int[2];
        if (pipe2(ends, Libc.O_CLOEXEC) != 0)
        {
            throw new InvalidOperationException("pipe2 failed");
        }

        ReadEnd = ends[0];
        _writeEnd = ends[1];
        int* idle = stackalloc int[2];
        if (Libc.socketpair(Libc.AF_UNIX, SockStream | Libc.SOCK_CLOEXEC, 0, idle) != 0)
        {
            throw new InvalidOperationException("socketpair failed");
        }

        (_idleEnd, _feeder) = (idle[0], idle[1]);
        _splicer = new Thread(() =>
        {
            Volatile.Write(ref _splicerTid, gettid());
            _ = splice(_idleEnd, null, _writeEnd, null, 4096, 0);
        }) { IsBackground = true };
        _splicer.Start();
        WaitUntilInSplice();
    }

    /// <summary>The read end, to send; the sender closes its copy after sending so the receiver's is the last.</summary>
    public int ReadEnd { get; }

    /// <summary>
    /// Closes this process's copy of <see cref="ReadEnd"/> after it was sent, so the receiver's is meant to be the last.
    /// On a thread of its own: the receiver may have released its copy already, and then this close is the last one,
    /// which waits for the pipe's lock until <see cref="Release"/> (on the test's thread, that hung the test for good).
    /// </summary>
    public void LetGoOfReadEnd()
    {
        _readEndCloser = new Thread(() => _ = Libc.close(ReadEnd)) { IsBackground = true, Name = "LockedPipe close" };
        _readEndCloser.Start();
    }

    /// <summary>Lets the splice end (one byte for the idle socket), so whatever waits on the pipe's lock goes on.</summary>
    public void Release()
    {
        if (!_released)
        {
            _released = true;
            byte one = 1;
            _ = Libc.write(_feeder, &one, 1);
        }
    }

    public void Dispose()
    {
        Release();
        _splicer.Join();
        _readEndCloser?.Join();
        foreach (int fd in new[] { _writeEnd, _idleEnd, _feeder })
        {
            _ = Libc.close(fd);
        }
    }

    /// <summary>Waits until the splice thread sleeps in splice (its /proc syscall file and state say so).</summary>
    private void WaitUntilInSplice()
    {
        string splice = (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 76 : 275).ToString(CultureInfo.InvariantCulture);
        long deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline)
        {
            int tid = Volatile.Read(ref _splicerTid);
            string task = $"/proc/self/task/{tid}";
            // stat: "tid (name) state ...", and the name may hold spaces.
            if (tid != 0 && File.ReadAllText($"{task}/syscall").Split(' ')[0] == splice
                && File.ReadAllText($"{task}/stat").Split(')')[^1].TrimStart().StartsWith('S'))
            {
                return;
            }

            Thread.Sleep(5); // nothing signals that a thread sleeps in a system call: /proc is polled, bounded above
        }

        Release();
        throw new TimeoutException("The splice thread never slept in splice.");
    }

    private const int SockStream = 1;

    [LibraryImport("libc")]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc")]
    private static partial nint splice(int input, long* inputOffset, int output, long* outputOffset, nuint length, uint flags);

    [LibraryImport("libc")]
    private static partial int gettid();
}
