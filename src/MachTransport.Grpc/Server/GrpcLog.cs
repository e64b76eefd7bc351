using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MachTransport.Grpc.Server;

/// <summary>The server runtime's log messages (stable event ids).</summary>
internal static partial class GrpcLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Error when executing service method '{Method}'.")]
    public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Call '{Method}' ended with status {StatusCode}: {Detail}")]
    public static partial void CallFailed(ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Request to '{Path}' rejected: content-type '{ContentType}' is not application/grpc.")]
    public static partial void RejectedContentType(ILogger logger, PathString path, string? contentType);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Request to '{Path}' rejected: protocol {Protocol} is not HTTP/2.")]
    public static partial void RejectedProtocol(ILogger logger, PathString path, string protocol);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Call to '{Path}' answered UNIMPLEMENTED: {Detail}")]
    public static partial void Unimplemented(ILogger logger, PathString path, string detail);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Call '{Method}' was aborted by the client.")]
    public static partial void CallAborted(ILogger logger, string method);
}
