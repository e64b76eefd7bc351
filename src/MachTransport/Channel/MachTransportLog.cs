using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>The transport's log events; ids and names are stable (tests and operators match on them).</summary>
internal static partial class MachTransportLog
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} established with pid {Pid} (uid {Uid}, gid {Gid}).", EventName = "ConnectionEstablished")]
    public static partial void ConnectionEstablished(ILogger logger, string connectionId, int pid, uint uid, uint gid);

    [LoggerMessage(2, LogLevel.Warning, "Mach service {ServiceName} rejected a connection from pid {Pid} (uid {Uid}): {Reason}.", EventName = "PeerRejected")]
    public static partial void PeerRejected(ILogger logger, string serviceName, int pid, uint uid, MachCloseReason reason);

    [LoggerMessage(3, LogLevel.Warning, "Connection {ConnectionId} closed after a protocol violation by the peer: {Reason}", EventName = "ProtocolError")]
    public static partial void ProtocolError(ILogger logger, string connectionId, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Connection {ConnectionId} dropped message {MessageId:x} from pid {ActualPid}; the connection belongs to pid {ExpectedPid}.", EventName = "ForeignSenderDropped")]
    public static partial void ForeignSenderDropped(ILogger logger, string connectionId, int messageId, int actualPid, int expectedPid);

    [LoggerMessage(5, LogLevel.Debug, "Connection {ConnectionId}: the peer's port died.", EventName = "PeerDied")]
    public static partial void PeerDied(ILogger logger, string connectionId);

    [LoggerMessage(6, LogLevel.Debug, "Connection {ConnectionId} released its ports.", EventName = "ConnectionReleased")]
    public static partial void ConnectionReleased(ILogger logger, string connectionId);

    [LoggerMessage(7, LogLevel.Error, "Receive loop {LoopName} stopped unexpectedly: {Result}.", EventName = "ReceiveLoopFailed")]
    public static partial void ReceiveLoopFailed(ILogger logger, string loopName, string result);

    [LoggerMessage(8, LogLevel.Warning, "Mach service {ServiceName} dropped a malformed message {MessageId:x}: {Reason}", EventName = "MalformedServiceMessage")]
    public static partial void MalformedServiceMessage(ILogger logger, string serviceName, int messageId, string reason);

    [LoggerMessage(9, LogLevel.Information, "Listening on Mach service {ServiceName}.", EventName = "ListenerBound")]
    public static partial void ListenerBound(ILogger logger, string serviceName);

    [LoggerMessage(10, LogLevel.Debug, "Connection {ConnectionId} aborted: {Reason}", EventName = "ConnectionAborted")]
    public static partial void ConnectionAborted(ILogger logger, string connectionId, string reason);

    [LoggerMessage(11, LogLevel.Warning, "Connection {ConnectionId}: sending {What} failed with {Result}.", EventName = "SendFailed")]
    public static partial void SendFailed(ILogger logger, string connectionId, string what, string result);

    [LoggerMessage(12, LogLevel.Warning, "Receive loop {LoopName} dropped a message {MessageId:x} for port {Port:x} that has no owner.", EventName = "UnroutedMessage")]
    public static partial void UnroutedMessage(ILogger logger, string loopName, int messageId, uint port);

    [LoggerMessage(13, LogLevel.Error, "The peer policy of Mach service {ServiceName} threw; the peer is rejected.", EventName = "PeerPolicyFailed")]
    public static partial void PeerPolicyFailed(ILogger logger, Exception exception, string serviceName);

    [LoggerMessage(14, LogLevel.Error, "Connection {ConnectionId}: a ConnectionClosed callback threw.", EventName = "ClosedCallbackFailed")]
    public static partial void ClosedCallbackFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(15, LogLevel.Debug, "Receive loop {LoopName}: the handler of port {Port:x} threw; what it serves is closed, the loop goes on.", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string loopName, uint port);

    [LoggerMessage(16, LogLevel.Debug, "Mach service {ServiceName} refused a connection from pid {Pid} (uid {Uid}): {Reason}, {Detail}.", EventName = "ConnectionRefused")]
    public static partial void ConnectionRefused(ILogger logger, string serviceName, int pid, uint uid, MachCloseReason reason, string detail);
}
