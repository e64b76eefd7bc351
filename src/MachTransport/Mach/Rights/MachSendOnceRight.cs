using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Rights;

/// <summary>A send-once right: consumed by the one message sent with it (then <see cref="MachRight.Detach"/> it).</summary>
internal sealed class MachSendOnceRight : MachRight
{
    public MachSendOnceRight(IMachKernel kernel, uint name) : base(kernel, name) { }

    private protected override KernReturn Release(uint name) => Kernel.Deallocate(name);
}
