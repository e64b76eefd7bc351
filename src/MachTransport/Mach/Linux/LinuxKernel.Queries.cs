using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Read-only questions about a name: <c>mach_port_get_refs</c>, <c>mach_port_type</c> and the queue limit
/// (<c>mach_port_get_attributes</c>). The product never asks them, so they are not on <see cref="IMachKernel"/>: tests
/// ask them through their KernelQueries helper.
/// </summary>
internal sealed partial class LinuxKernel
{
    public KernReturn GetRefs(uint name, MachPortRight right, out uint refs)
    {
        refs = 0;
        lock (_lock)
        {
            if (right == MachPortRight.PortSet)
            {
                refs = _portSets.ContainsKey(name) ? 1u : 0u;
                return _portSets.ContainsKey(name) || _ports.ContainsKey(name) ? KernReturn.Success : KernReturn.InvalidName;
            }

            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return _portSets.ContainsKey(name) ? KernReturn.Success : KernReturn.InvalidName;
            }

            refs = right switch
            {
                MachPortRight.Receive => entry.Receive is null ? 0u : 1u,
                MachPortRight.Send => entry.SendUrefs,
                MachPortRight.SendOnce => entry.IsSendOnce ? 1u : 0u,
                MachPortRight.DeadName => entry.DeadUrefs,
                _ => 0,
            };
            return right <= MachPortRight.DeadName ? KernReturn.Success : KernReturn.InvalidValue;
        }
    }

    public KernReturn GetPortType(uint name, out MachPortType type)
    {
        lock (_lock)
        {
            if (_portSets.ContainsKey(name))
            {
                type = MachPortType.PortSet;
                return KernReturn.Success;
            }

            type = _ports.TryGetValue(name, out PortEntry? entry) ? entry.Type : MachPortType.None;
            return entry is null ? KernReturn.InvalidName : KernReturn.Success;
        }
    }

    public KernReturn GetQueueLimit(uint name, out uint queueLimit)
    {
        lock (_lock)
        {
            queueLimit = 0;
            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            if (entry.Receive is null)
            {
                return KernReturn.InvalidRight;
            }

            queueLimit = entry.QueueLimit;
            return KernReturn.Success;
        }
    }
}
