using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MachTransport.Server.Authentication;

/// <summary>
/// Authenticates a request that arrived over a Mach connection as its peer process: pid, uid and gid from the kernel
/// (the audit trailer of the handshake), never from anything the client sent. Other requests (TCP, Unix sockets)
/// get no result, so they stay anonymous to this scheme.
/// </summary>
internal sealed class MachPeerAuthenticationHandler(IOptionsMonitor<MachPeerAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<MachPeerAuthenticationOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Context.Features.Get<IMachPeerCredentialsFeature>()?.Credentials is not MachPeerCredentials peer)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string uid = peer.Uid.ToString(CultureInfo.InvariantCulture);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, uid, ClaimValueTypes.UInteger32, ClaimsIssuer),
                new Claim(MachPeerClaimTypes.Uid, uid, ClaimValueTypes.UInteger32, ClaimsIssuer),
                new Claim(MachPeerClaimTypes.Gid, peer.Gid.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.UInteger32, ClaimsIssuer),
                new Claim(MachPeerClaimTypes.Pid, peer.Pid.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer32, ClaimsIssuer),
            ],
            Scheme.Name,
            nameType: MachPeerClaimTypes.Uid,
            roleType: ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
