using System.Globalization;
using MachTransport;
using MachTransport.Server;
using MachTransport.Server.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Mach peer authentication scheme and builds policies on the peer's user id.</summary>
public static class MachPeerAuthenticationExtensions
{
    /// <summary>
    /// Adds the scheme <see cref="MachPeerAuthenticationDefaults.AuthenticationScheme"/>: a request over a Mach
    /// connection is authenticated as its peer process (claims in <see cref="MachPeerClaimTypes"/>); any other request
    /// gets no result. Make it the default with <c>AddAuthentication(MachPeerAuthenticationDefaults.AuthenticationScheme)</c>,
    /// or name it in a policy (the <c>RequireMachPeer...</c> methods do).
    /// </summary>
    public static AuthenticationBuilder AddMachPeer(this AuthenticationBuilder builder, Action<MachPeerAuthenticationOptions>? configure = null) =>
        builder.AddMachPeer(MachPeerAuthenticationDefaults.AuthenticationScheme, configure);

    /// <summary>Adds the Mach peer scheme under <paramref name="authenticationScheme"/>.</summary>
    public static AuthenticationBuilder AddMachPeer(this AuthenticationBuilder builder, string authenticationScheme, Action<MachPeerAuthenticationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddScheme<MachPeerAuthenticationOptions, MachPeerAuthenticationHandler>(authenticationScheme, configure);
    }

    /// <summary>
    /// Requires a Mach peer running as the same user as this process (the transport's default peer policy, as an
    /// authorization rule: useful when the listener admits other users, or on an app that also listens on TCP).
    /// </summary>
    public static AuthorizationPolicyBuilder RequireMachPeerSameUser(this AuthorizationPolicyBuilder builder) =>
        builder.RequireMachPeerUser(ProcessIdentity.EffectiveUid);

    /// <summary>Requires a Mach peer whose effective user id is one of <paramref name="uids"/>; requests that are not over Mach fail it.</summary>
    public static AuthorizationPolicyBuilder RequireMachPeerUser(this AuthorizationPolicyBuilder builder, params uint[] uids)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(uids);
        if (uids.Length == 0)
        {
            throw new ArgumentException("Name at least one user id.", nameof(uids));
        }

        return builder
            .AddAuthenticationSchemes(MachPeerAuthenticationDefaults.AuthenticationScheme)
            .RequireClaim(MachPeerClaimTypes.Uid, uids.Select(uid => uid.ToString(CultureInfo.InvariantCulture)));
    }
}
