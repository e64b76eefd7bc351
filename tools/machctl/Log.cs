// machctl's log events (stderr): connection ends with their byte counts at Debug, failures to reach a side as warnings.
using Microsoft.Extensions.Logging;

namespace MachTransport.Tools;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {Id} opened: socket {Socket} <-> Mach peer pid {PeerPid}.", EventName = "ConnectionOpened")]
    public static partial void ConnectionOpened(ILogger logger, long id, string socket, int peerPid);

    [LoggerMessage(2, LogLevel.Debug, "Connection {Id} closed: {ToMach} bytes to Mach, {FromMach} bytes from Mach.", EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(ILogger logger, long id, long toMach, long fromMach);

    [LoggerMessage(3, LogLevel.Debug, "Connection {Id} reset ({Reason}): {ToMach} bytes to Mach, {FromMach} bytes from Mach.", EventName = "ConnectionReset")]
    public static partial void ConnectionReset(ILogger logger, long id, string reason, long toMach, long fromMach);

    [LoggerMessage(4, LogLevel.Warning, "Connection {Id} closed: cannot reach the Mach service {Service}: {Reason}", EventName = "ServiceUnreachable")]
    public static partial void ServiceUnreachable(ILogger logger, long id, string service, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Connection {Id} closed: cannot reach {Target}: {Reason}", EventName = "TargetUnreachable")]
    public static partial void TargetUnreachable(ILogger logger, long id, string target, string reason);

    [LoggerMessage(6, LogLevel.Information, "Shutting down: waiting up to {GraceSeconds} s for {Count} open connection(s).", EventName = "ShuttingDown")]
    public static partial void ShuttingDown(ILogger logger, double graceSeconds, int count);

    [LoggerMessage(7, LogLevel.Warning, "The grace period is over: the connections still open were reset.", EventName = "GraceExpired")]
    public static partial void GraceExpired(ILogger logger);

    [LoggerMessage(8, LogLevel.Warning, "Accepting a connection failed: {Reason}", EventName = "AcceptFailed")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(9, LogLevel.Error, "Connection {Id} failed.", EventName = "ConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, long id);
}
