namespace MachTransport.Mach.Linux;

// Placeholder until the Linux backend lands.
internal sealed class LinuxKernel
{
    public static IMachKernel Instance => throw new NotImplementedException();
}
