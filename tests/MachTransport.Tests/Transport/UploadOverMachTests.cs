using System.Security.Cryptography;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>
/// Request bodies over HTTP/2 from this process's SocketsHttpHandler, whose DATA frames the client's send loop gathers
/// into out-of-line messages (docs/performance.md, "Uploads out of line"): every size arrives byte-exact. (That a
/// body which stops after a full frame is not held back is <see cref="Protocol.UploadGatherTests"/>'s.)
/// </summary>
[Trait("Category", "CrossProcess")]
public sealed class UploadOverMachTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private TransportHost _host = null!;

    public async Task InitializeAsync() => _host = await TransportHost.StartAsync("upload");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task RequestBodiesOfOddSizesArriveByteExact()
    {
        using HttpClient client = _host.CreateClient();
        // Around one frame (16,384), the inline limit (64 KiB: four frames and their headers are 65,572 bytes) and
        // the ring's largest payload (1 MiB), and larger than any of them.
        foreach (int size in new[] { 1, 16_383, 16_384, 16_385, 49_161, 65_536, 65_537, 1_048_579, 16_777_217 })
        {
            byte[] body = RandomNumberGenerator.GetBytes(size);
            using HttpResponseMessage response = await client.PostAsync("/sha256", new ByteArrayContent(body)).WaitAsync(Bound);
            Assert.Equal($"{size} {Convert.ToHexString(SHA256.HashData(body))}", await response.Content.ReadAsStringAsync());
        }
    }
}
