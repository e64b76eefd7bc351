using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MachTransport.Server;

/// <summary>
/// Answers an HTTP/1.x request on an HTTP/2-only Mach endpoint with a 400 that says what to do. Kestrel's own answer
/// ("An HTTP/1.x request was sent to an HTTP/2 only endpoint.", a fixed text in Http2Connection) names no fix, and a
/// cleartext endpoint cannot serve both versions in .NET 10: with <c>Http1AndHttp2</c> and no TLS (no ALPN) Kestrel
/// picks HTTP/1.1 for every connection. The check looks at the first bytes once per connection and consumes nothing.
/// </summary>
internal static class Http1OnHttp2Endpoint
{
    /// <summary>RFC 9113 §3.4: every HTTP/2 prior-knowledge connection starts with these 24 bytes.</summary>
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    internal const string Explanation =
        "This Mach endpoint speaks HTTP/2 only (prior knowledge, no TLS) and the request was HTTP/1.x. "
        + "With IHttpClientFactory: services.AddHttpClient(name).UseMachService(service). "
        + "With an HttpClient: DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact. "
        + "With curl through machctl bridge: --http2-prior-knowledge. "
        + "To serve HTTP/1.1 instead: ListenMach(service, listen => listen.Protocols = HttpProtocols.Http1).\n";

    private static readonly byte[] Response = Encoding.ASCII.GetBytes(
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: "
        + Encoding.ASCII.GetByteCount(Explanation).ToString(System.Globalization.CultureInfo.InvariantCulture)
        + "\r\n\r\n" + Explanation);

    /// <summary>Adds the check to <paramref name="listen"/> when it serves HTTP/2 alone.</summary>
    public static void AddTo(ListenOptions listen)
    {
        if (listen.Protocols == HttpProtocols.Http2)
        {
            listen.Use(next => connection => CheckAsync(connection, next));
        }
    }

    private static async Task CheckAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        PipeReader input = connection.Transport.Input;
        ReadResult read;
        try
        {
            read = await input.ReadAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return; // aborted before its first byte (ConnectionAbortedException is an OperationCanceledException)
        }

        bool http1 = !read.IsCanceled && !read.Buffer.IsEmpty && !StartsLikePreface(read.Buffer);
        // Nothing consumed or examined: Kestrel reads the same bytes again.
        input.AdvanceTo(read.Buffer.Start);
        if (!http1)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        try
        {
            await connection.Transport.Output.WriteAsync(Response).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client went away first; there is nobody to tell.
        }

        await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
        await input.CompleteAsync().ConfigureAwait(false);
    }

    private static bool StartsLikePreface(ReadOnlySequence<byte> buffer)
    {
        Span<byte> start = stackalloc byte[Preface.Length];
        int length = (int)Math.Min(buffer.Length, Preface.Length);
        buffer.Slice(0, length).CopyTo(start);
        return start[..length].SequenceEqual(Preface[..length]);
    }
}
