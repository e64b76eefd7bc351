namespace MachTransport.Server;

/// <summary>A service <c>UseMachTransport()</c> registers so that <c>ListenMach</c> can tell whether it was called.</summary>
internal sealed class MachTransportRegistration;
