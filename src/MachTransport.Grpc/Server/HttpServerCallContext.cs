using System.Globalization;
using MachTransport.Grpc.Protocol;
using Microsoft.AspNetCore.Http;

namespace MachTransport.Grpc.Server;

/// <summary>The context of one call on Kestrel: deadline from grpc-timeout, headers, and the status and trailers to send.</summary>
internal sealed class HttpServerCallContext : ServerCallContext, IDisposable
{
    private readonly CancellationTokenSource _cancellation;
    private Metadata? _requestHeaders;

    public HttpServerCallContext(HttpContext httpContext, string method)
    {
        HttpContext = httpContext;
        Method = method;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted);
        if (GrpcTimeout.TryParse(httpContext.Request.Headers[GrpcProtocol.TimeoutHeader], out TimeSpan timeout))
        {
            Deadline = timeout >= DateTime.MaxValue - DateTime.UtcNow ? DateTime.MaxValue : DateTime.UtcNow + timeout;
            _cancellation.CancelAfter(timeout);
        }
        else
        {
            Deadline = DateTime.MaxValue;
        }
    }

    public override string Method { get; }

    public override string Host => HttpContext.Request.Host.Value ?? string.Empty;

    public override string Peer => HttpContext.Connection.RemoteIpAddress is { } address
        ? string.Create(CultureInfo.InvariantCulture, $"{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4")}:{address}:{HttpContext.Connection.RemotePort}")
        : "unknown";

    public override DateTime Deadline { get; }

    public override Metadata RequestHeaders => _requestHeaders ??= ReadRequestHeaders();

    public override CancellationToken CancellationToken => _cancellation.Token;

    public override Metadata ResponseTrailers { get; } = new();

    public override Status Status { get; set; } = Status.DefaultSuccess;

    public override HttpContext HttpContext { get; }

    /// <summary>Whether the deadline has passed.</summary>
    public bool DeadlineExceeded => Deadline != DateTime.MaxValue && DateTime.UtcNow >= Deadline;

    public override Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        HttpResponse response = HttpContext.Response;
        if (response.HasStarted)
        {
            throw new InvalidOperationException("Response headers can only be sent once per call.");
        }

        foreach (Metadata.Entry entry in responseHeaders)
        {
            if (!GrpcProtocol.IsReservedHeader(entry.Key))
            {
                response.Headers.Append(entry.Key, MetadataHeaders.ToHeaderValue(entry));
            }
        }

        return response.StartAsync(CancellationToken);
    }

    /// <summary>Sends <see cref="Status"/> and <see cref="ResponseTrailers"/>: as trailers, or in the headers of a trailers-only response.</summary>
    public void WriteStatus()
    {
        HttpResponse response = HttpContext.Response;
        bool trailersOnly = !response.HasStarted;
        Action<string, string> add = trailersOnly
            ? (name, value) => response.Headers.Append(name, value)
            : (name, value) => response.AppendTrailer(name, value);

        add(GrpcProtocol.StatusHeader, ((int)Status.StatusCode).ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(Status.Detail))
        {
            add(GrpcProtocol.MessageHeader, PercentEncoding.Encode(Status.Detail));
        }

        foreach (Metadata.Entry entry in ResponseTrailers)
        {
            if (!GrpcProtocol.IsReservedHeader(entry.Key))
            {
                add(entry.Key, MetadataHeaders.ToHeaderValue(entry));
            }
        }
    }

    public void Dispose() => _cancellation.Dispose();

    private Metadata ReadRequestHeaders()
    {
        var metadata = new Metadata();
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in HttpContext.Request.Headers)
        {
            foreach (string? value in values)
            {
                if (value is not null)
                {
                    MetadataHeaders.AddReceived(metadata, name, value);
                }
            }
        }

        return metadata;
    }
}
