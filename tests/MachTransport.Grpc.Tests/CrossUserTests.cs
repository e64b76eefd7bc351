using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Protos;
using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>
/// Issue 19: <c>RequireMachPeerUser(65534)</c> (the "other-user" policy of a root server) on a gRPC call and a minimal
/// API of a root server in the system domain, called by processes of user nobody, of another user and of root itself.
/// </summary>
[Trait("Category", "CrossUser")]
public sealed class CrossUserTests
{
    private const uint Nobody = 65534;
    private const uint Daemon = 1;

    [LinuxRootFact]
    public async Task RequireMachPeerUserAdmitsThatUserOnly()
    {
        Assert.Equal(Nobody, Server.TesterServer.OtherUid(ProcessUser.Uid));
        string serviceName = TestEnvironment.UniqueServiceName("cross-user");
        ChildProcess server = await StartSystemServerAsync(serviceName);
        await using (server)
        {
            (int pid, string grpc, string http) = await CallAsAsync(Nobody, serviceName);
            Assert.Equal($"OK {Nobody} {pid}", grpc);
            Assert.Equal($"200 uid {Nobody} pid {pid}", http);

            (_, grpc, http) = await CallAsAsync(Daemon, serviceName);
            Assert.Equal(nameof(StatusCode.PermissionDenied), grpc);
            Assert.StartsWith("403", http, StringComparison.Ordinal);

            // Root, the server's own user.
            using GrpcChannel channel = MachGrpcChannel.ForService(serviceName);
            RpcException denied = await Assert.ThrowsAsync<RpcException>(async () =>
                await new Identity.IdentityClient(channel).OtherUserOnlyAsync(new PeerRequest(), deadline: DateTime.UtcNow.AddSeconds(30)));
            Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
            using var client = new HttpClient(MachHttpHandler.Create(serviceName)) { BaseAddress = new Uri("http://localhost") };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/other") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using HttpResponseMessage response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);

            await server.WriteLineAsync("stop");
            await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task<ChildProcess> StartSystemServerAsync(string serviceName)
    {
        ChildProcess server = ChildProcess.Start(TesterServerFixture.AssemblyName, "serve", serviceName, "system");
        string ready = await server.ReadLineAsync(TimeSpan.FromSeconds(60));
        if (!ready.StartsWith("READY ", StringComparison.Ordinal))
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"The tester server said '{ready}' instead of READY.");
        }

        return server;
    }

    /// <summary>This assembly's "call" client as <paramref name="uid"/>: its pid and the two lines it prints.</summary>
    private static async Task<(int Pid, string Grpc, string Http)> CallAsAsync(uint uid, string serviceName)
    {
        string id = uid.ToString(CultureInfo.InvariantCulture);
        await using ChildProcess client = ChildProcess.StartUnder(
            ["/usr/bin/setpriv", $"--reuid={id}", $"--regid={id}", "--clear-groups"], TesterServerFixture.AssemblyName, null, "call", serviceName);
        string grpc = await client.ReadLineAsync(TimeSpan.FromSeconds(90));
        string http = await client.ReadLineAsync(TimeSpan.FromSeconds(90));
        return (client.Id, grpc, http);
    }
}
