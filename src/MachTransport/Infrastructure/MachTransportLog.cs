using MachTransport.Channel;
using Microsoft.Extensions.Logging;

namespace MachTransport.Infrastructure;

/// <summary>
/// The transport's log events; ids and names are stable (tests and operators match on them). What a peer can cause
/// is logged at Debug, as Kestrel logs bad requests, and rate limited (<see cref="RateLimitedLogger"/>).
/// </summary>
internal static partial class MachTransportLog
{
    /// <summary>Events another process can cause at will; the rate limiter bounds them.</summary>
    public static bool IsPeerCaused(int eventId) => eventId is 2 or 3 or 4 or 8 or 11 or 12 or 13 or 16 or 17 or 19;

    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} established with pid {Pid} (uid {Uid}, gid {Gid}).", EventName = "ConnectionEstablished")]
    public static partial void ConnectionEstablished(ILogger logger, string connectionId, int pid, uint uid, uint gid);

    [LoggerMessage(2, LogLevel.Debug, "Mach service {ServiceName} rejected a connection from pid {Pid} (uid {Uid}): {Reason}.", EventName = "PeerRejected")]
    public static partial void PeerRejected(ILogger logger, string serviceName, int pid, uint uid, MachCloseReason reason);

    [LoggerMessage(3, LogLevel.Debug, "Connection {ConnectionId} closed after a protocol violation by the peer: {Reason}", EventName = "ProtocolError")]
    public static partial void ProtocolError(ILogger logger, string connectionId, string reason);

    [LoggerMessage(4, LogLevel.Debug, "Connection {ConnectionId} dropped message {MessageId:x} from pid {ActualPid}; the connection belongs to pid {ExpectedPid}.", EventName = "ForeignSenderDropped")]
    public static partial void ForeignSenderDropped(ILogger logger, string connectionId, int messageId, int actualPid, int expectedPid);

    [LoggerMessage(5, LogLevel.Debug, "Connection {ConnectionId}: the peer's port died.", EventName = "PeerDied")]
    public static partial void PeerDied(ILogger logger, string connectionId);

    [LoggerMessage(6, LogLevel.Debug, "Connection {ConnectionId} released its ports.", EventName = "ConnectionReleased")]
    public static partial void ConnectionReleased(ILogger logger, string connectionId);

    [LoggerMessage(7, LogLevel.Error, "Receive loop {LoopName} stopped unexpectedly: {Result}.", EventName = "ReceiveLoopFailed")]
    public static partial void ReceiveLoopFailed(ILogger logger, string loopName, string result);

    [LoggerMessage(8, LogLevel.Debug, "Mach service {ServiceName} dropped a malformed message {MessageId:x}: {Reason}", EventName = "MalformedServiceMessage")]
    public static partial void MalformedServiceMessage(ILogger logger, string serviceName, int messageId, string reason);

    [LoggerMessage(9, LogLevel.Information, "Listening on Mach service {ServiceName}.", EventName = "ListenerBound")]
    public static partial void ListenerBound(ILogger logger, string serviceName);

    [LoggerMessage(10, LogLevel.Debug, "Connection {ConnectionId} aborted: {Reason}", EventName = "ConnectionAborted")]
    public static partial void ConnectionAborted(ILogger logger, string connectionId, string reason);

    [LoggerMessage(11, LogLevel.Debug, "Connection {ConnectionId}: sending {What} failed with {Result}.", EventName = "SendFailed")]
    public static partial void SendFailed(ILogger logger, string connectionId, string what, string result);

    [LoggerMessage(12, LogLevel.Debug, "Receive loop {LoopName} dropped a message {MessageId:x} for port {Port:x} that has no owner.", EventName = "UnroutedMessage")]
    public static partial void UnroutedMessage(ILogger logger, string loopName, int messageId, uint port);

    [LoggerMessage(13, LogLevel.Error, "The peer policy of Mach service {ServiceName} threw; the peer is rejected.", EventName = "PeerPolicyFailed")]
    public static partial void PeerPolicyFailed(ILogger logger, Exception exception, string serviceName);

    [LoggerMessage(14, LogLevel.Error, "Connection {ConnectionId}: a ConnectionClosed callback threw.", EventName = "ClosedCallbackFailed")]
    public static partial void ClosedCallbackFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 15, EventName = "EventsSuppressed", Message = "{Count} {EventName} events were not logged: at most {Limit} a second are.")]
    public static partial void EventsSuppressed(ILogger logger, LogLevel level, int count, string? eventName, int limit);

    [LoggerMessage(16, LogLevel.Debug, "Receive loop {LoopName}: the handler of port {Port:x} threw; what it serves is closed, the loop goes on.", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string loopName, uint port);

    [LoggerMessage(17, LogLevel.Debug, "Mach service {ServiceName} refused a connection from pid {Pid} (uid {Uid}): {Reason}, {Detail}.", EventName = "ConnectionRefused")]
    public static partial void ConnectionRefused(ILogger logger, string serviceName, int pid, uint uid, MachCloseReason reason, string detail);

    [LoggerMessage(18, LogLevel.Error, "Mach service {ServiceName}: look-ups of the name no longer reach this server (its registry files were removed or replaced, or the registry directory opened to others, and another process may have taken the name). Restart the server to register it again.", EventName = "ServiceNameLost")]
    public static partial void ServiceNameLost(ILogger logger, string serviceName);

    [LoggerMessage(19, LogLevel.Debug, "Connection {ConnectionId} closed: the peer {What} for {Seconds} s while data waited to be sent.", EventName = "PeerStalled")]
    public static partial void PeerStalled(ILogger logger, string connectionId, string what, double seconds);
}
