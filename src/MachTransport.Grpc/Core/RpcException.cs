namespace MachTransport.Grpc;

/// <summary>A call ended with a status other than OK; thrown on clients and thrown by handlers to set the status.</summary>
public sealed class RpcException : Exception
{
    /// <summary>An exception carrying <paramref name="status"/> and no trailers.</summary>
    public RpcException(Status status)
        : this(status, new Metadata())
    {
    }

    /// <summary>An exception carrying <paramref name="status"/> and <paramref name="trailers"/>.</summary>
    public RpcException(Status status, Metadata trailers)
        : base(status.ToString())
    {
        ArgumentNullException.ThrowIfNull(trailers);
        Status = status;
        Trailers = trailers;
    }

    /// <summary>An exception with no status; prefer the constructors that take one.</summary>
    public RpcException()
        : this(new Status(StatusCode.Unknown, string.Empty))
    {
    }

    /// <summary>An exception with an unknown status and <paramref name="message"/> as its detail.</summary>
    public RpcException(string message)
        : this(new Status(StatusCode.Unknown, message))
    {
    }

    /// <summary>An exception with an unknown status, <paramref name="message"/> as detail and an inner exception.</summary>
    public RpcException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = new Status(StatusCode.Unknown, message);
        Trailers = new Metadata();
    }

    /// <summary>The status of the call.</summary>
    public Status Status { get; }

    /// <summary>The status code of the call.</summary>
    public StatusCode StatusCode => Status.StatusCode;

    /// <summary>The trailers the server sent (client side) or will send (server side).</summary>
    public Metadata Trailers { get; }
}
