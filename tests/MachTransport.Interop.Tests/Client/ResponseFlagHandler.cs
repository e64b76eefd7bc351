// Records the compressed flag of each response's first gRPC message (its body's first byte) for the
// server_compressed_unary case: Grpc.Net.Client decodes messages without telling whether they were compressed.
using MachTransport.Interop.Tests.Infrastructure;

namespace MachTransport.Interop.Tests.Client;

internal sealed class ResponseFlagHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private FirstByteStream? _last;

    /// <summary>The flag of the last response's first message: 1 compressed, 0 not, -1 no message (yet).</summary>
    public int LastFlag => _last?.FirstByte ?? -1;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
        var tap = new FirstByteStream(await response.Content.ReadAsStreamAsync(cancellationToken));
        var content = new StreamContent(tap);
        foreach (KeyValuePair<string, IEnumerable<string>> header in response.Content.Headers)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = content;
        _last = tap;
        return response;
    }
}
