using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>
/// The Mach peer authentication handler and its policies, on gRPC services and a minimal API: the principal is the
/// kernel-verified peer process over Mach, and nobody over TCP.
/// </summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class AuthenticationTests(TesterServerFixture server) : IClassFixture<TesterServerFixture>
{
    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(30);

    [Fact]
    public async Task ASameUserPeerIsAuthenticatedWithItsRealPidAndUid()
    {
        using GrpcChannel channel = server.CreateMachChannel();

        PeerReply reply = await new Identity.IdentityClient(channel).WhoAmIAsync(new PeerRequest(), deadline: Deadline);

        Assert.Equal(Environment.ProcessId, reply.Pid);
        Assert.Equal(ProcessUser.Uid, reply.Uid);
        Assert.Equal(ProcessUser.Gid, reply.Gid);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), reply.ClaimPid);
        Assert.Equal(ProcessUser.Uid.ToString(CultureInfo.InvariantCulture), reply.ClaimUid);
        Assert.Equal(MachPeerAuthenticationDefaults.AuthenticationScheme, reply.AuthenticationType);
    }

    [Fact]
    public async Task APolicyRequiringAnotherUidIsPermissionDenied()
    {
        using GrpcChannel channel = server.CreateMachChannel();

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Identity.IdentityClient(channel).OtherUserOnlyAsync(new PeerRequest(), deadline: Deadline));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task ACallOverTcpInTheSameAppStaysUnauthenticated()
    {
        using GrpcChannel channel = server.CreateTcpChannel();

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Identity.IdentityClient(channel).WhoAmIAsync(new PeerRequest(), deadline: Deadline));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task AMinimalApiRequiringTheSameUserAdmitsAMachPeerAndRefusesTcp()
    {
        using var overMach = new HttpClient(MachHttpHandler.Create(server.ServiceName)) { BaseAddress = new Uri("http://localhost") };
        using var overTcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.TcpPort}") };

        using HttpResponseMessage mach = await overMach.SendAsync(Http2Get());
        using HttpResponseMessage tcp = await overTcp.SendAsync(Http2Get());

        Assert.Equal(HttpStatusCode.OK, mach.StatusCode);
        Assert.Equal($"uid {ProcessUser.Uid} pid {Environment.ProcessId}", await mach.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, tcp.StatusCode);
    }

    private static HttpRequestMessage Http2Get() => new(HttpMethod.Get, "/whoami")
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
