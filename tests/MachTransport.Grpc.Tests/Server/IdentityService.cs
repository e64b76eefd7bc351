using System.Security.Claims;
using Grpc.Core;
using MachTransport.Grpc.Tests.Protos;
using Microsoft.AspNetCore.Authorization;

namespace MachTransport.Grpc.Tests.Server;

/// <summary>The Identity service: reports the caller as the transport and the authentication handler saw it.</summary>
internal sealed class IdentityService : Identity.IdentityBase
{
    [Authorize("same-user")]
    public override Task<PeerReply> WhoAmI(PeerRequest request, ServerCallContext context) => Task.FromResult(Describe(context));

    [Authorize("other-user")]
    public override Task<PeerReply> OtherUserOnly(PeerRequest request, ServerCallContext context) => Task.FromResult(Describe(context));

    private static PeerReply Describe(ServerCallContext context)
    {
        MachPeerCredentials? peer = context.GetMachPeer();
        ClaimsPrincipal user = context.GetHttpContext().User;
        return new PeerReply
        {
            Pid = peer?.Pid ?? 0,
            Uid = peer?.Uid ?? 0,
            Gid = peer?.Gid ?? 0,
            ClaimPid = user.FindFirst(MachPeerClaimTypes.Pid)?.Value ?? string.Empty,
            ClaimUid = user.FindFirst(MachPeerClaimTypes.Uid)?.Value ?? string.Empty,
            AuthenticationType = user.Identity?.AuthenticationType ?? string.Empty,
        };
    }
}
