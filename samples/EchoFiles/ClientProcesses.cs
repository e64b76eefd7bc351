using System.Collections.Concurrent;
using System.Globalization;
using MachTransport;
using Microsoft.AspNetCore.Connections;

namespace EchoFiles;

/// <summary>The process at the other end of a connection: its kernel-verified pid, and when that process started (null where unknown).</summary>
internal readonly record struct ClientProcess(int Pid, ulong? StartTime);

/// <summary>
/// Who each connection's client is, taken when the connection is admitted: the pid from the peer credentials and the
/// start time of that pid's process then. A pid alone is not an identity: once a client exits, a new process can get
/// its pid; the pair (pid, start time) tells them apart.
/// </summary>
internal sealed class ClientProcesses
{
    /// <summary>Where the process table is read (<c>/proc</c>); the tests point it at a tree of their own, to fake a pid's reuse.</summary>
    public const string ProcRootVariable = "ECHOFILES_PROC_ROOT";

    private readonly ConcurrentDictionary<string, ClientProcess> _byConnection = new(StringComparer.Ordinal);
    private readonly string _procRoot = Environment.GetEnvironmentVariable(ProcRootVariable) is { Length: > 0 } root ? root : "/proc";

    /// <summary>Connection middleware: records the client of each connection while it lasts.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        if (connection.Features.Get<IMachPeerCredentialsFeature>() is { } peer)
        {
            _byConnection[connection.ConnectionId] = new ClientProcess(peer.Credentials.Pid, StartTimeOf(peer.Credentials.Pid));
        }

        try
        {
            await next(connection);
        }
        finally
        {
            _byConnection.TryRemove(connection.ConnectionId, out _);
        }
    };

    public ClientProcess? Of(string connectionId) => _byConnection.TryGetValue(connectionId, out ClientProcess client) ? client : null;

    /// <summary>
    /// The start time of <paramref name="pid"/> in clock ticks since boot: field 22 of <c>/proc/PID/stat</c> (proc(5)),
    /// counted after the command name's closing parenthesis, since the name may hold spaces and parentheses. Null where
    /// there is no such file (macOS, or the process is gone).
    /// </summary>
    private ulong? StartTimeOf(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(_procRoot, pid.ToString(CultureInfo.InvariantCulture), "stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // After ") ": field 3 (state) is the first, so field 22 (starttime) is the twentieth.
        string[] fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks) ? ticks : null;
    }
}
