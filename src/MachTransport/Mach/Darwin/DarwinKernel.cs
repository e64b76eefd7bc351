namespace MachTransport.Mach.Darwin;

// Placeholder until the Darwin backend lands.
internal sealed class DarwinKernel
{
}
