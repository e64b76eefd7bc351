using Microsoft.AspNetCore.Authentication;

namespace MachTransport;

/// <summary>Options of the Mach peer authentication scheme; it needs none beyond the common ones.</summary>
public sealed class MachPeerAuthenticationOptions : AuthenticationSchemeOptions
{
}
