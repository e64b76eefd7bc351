using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using MachTransport.Grpc.Tests.Protos;

namespace MachTransport.Grpc.Tests.Infrastructure;

/// <summary>
/// What a process of another user gets from the "other-user" policy (run by the cross-user tests through setpriv):
/// prints the gRPC call's status and the caller's uid and pid as the server saw them, then the minimal API's status and body.
/// </summary>
internal static class OtherUserClient
{
    public static async Task CallAsync(string serviceName)
    {
        using (GrpcChannel channel = MachGrpcChannel.ForService(serviceName))
        {
            try
            {
                PeerReply reply = await new Identity.IdentityClient(channel).OtherUserOnlyAsync(new PeerRequest(), deadline: DateTime.UtcNow.AddSeconds(60));
                Console.WriteLine($"OK {reply.Uid} {reply.Pid}");
            }
            catch (RpcException error)
            {
                Console.WriteLine(error.StatusCode);
            }
        }

        using var client = new HttpClient(MachHttpHandler.Create(serviceName)) { BaseAddress = new Uri("http://localhost"), Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/other") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using HttpResponseMessage response = await client.SendAsync(request);
        Console.WriteLine($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
