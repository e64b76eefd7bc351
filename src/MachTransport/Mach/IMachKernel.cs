using MachTransport.Mach.Abi;

namespace MachTransport.Mach;

/// <summary>
/// The Mach calls the transport needs, with libSystem's signatures and semantics: names are
/// <c>mach_port_name_t</c> in this task's IPC space, results are <c>kern_return_t</c> /
/// <c>mach_msg_return_t</c> / bootstrap codes, and message buffers are laid out exactly as XNU
/// lays them out. The Darwin backend forwards to the kernel; the Linux backend plays the
/// kernel's part on the same bytes. Everything above this interface is backend-neutral.
/// Only what the product calls is here; queries only tests ask (references, port type, queue limit) are members of
/// the backends themselves.
/// </summary>
internal interface IMachKernel
{
    /// <summary><c>mach_port_allocate</c>: a new receive right or port set.</summary>
    KernReturn AllocatePort(MachPortRight right, out uint name);

    /// <summary><c>mach_port_insert_right(name, name, MAKE_SEND)</c> and friends.</summary>
    KernReturn InsertRight(uint name, uint poly, MachMsgTypeName polyPoly);

    /// <summary><c>mach_port_extract_right</c>: e.g. a send-once right made from a receive right.</summary>
    KernReturn ExtractRight(uint name, MachMsgTypeName msgtName, out uint poly, out MachMsgTypeName polyPoly);

    /// <summary><c>mach_port_deallocate</c>: drops one user reference of a send, send-once, dead-name or port-set right.</summary>
    KernReturn Deallocate(uint name);

    /// <summary><c>mach_port_mod_refs</c>; <c>(Receive, -1)</c> destroys a receive right.</summary>
    KernReturn ModRefs(uint name, MachPortRight right, int delta);

    /// <summary><c>mach_port_insert_member</c>.</summary>
    KernReturn InsertMember(uint name, uint portSet);

    /// <summary><c>mach_port_extract_member</c>.</summary>
    KernReturn ExtractMember(uint name, uint portSet);

    /// <summary><c>mach_port_set_attributes(MACH_PORT_LIMITS_INFO)</c>: the queue limit of a receive right (1..1024).</summary>
    KernReturn SetQueueLimit(uint name, uint queueLimit);

    /// <summary><c>mach_port_request_notification</c>; <paramref name="previous"/> is a send-once right the caller owns.</summary>
    KernReturn RequestNotification(uint name, int msgId, uint sync, uint notify, MachMsgTypeName notifyPoly, out uint previous);

    /// <summary>
    /// <c>mach_msg</c> on an XNU-layout buffer of at least max(<paramref name="sendSize"/>, <paramref name="receiveLimit"/>) bytes.
    /// Blocking unless a timeout option is given: call it from a dedicated thread, never a thread-pool thread.
    /// </summary>
    unsafe MachMsgReturn MachMsg(byte* message, MachMsgOption options, uint sendSize, uint receiveLimit, uint receiveName, uint timeoutMilliseconds);

    /// <summary><c>mach_vm_allocate(VM_FLAGS_ANYWHERE)</c>: zero-filled, page-aligned memory that can travel out of line.</summary>
    KernReturn VmAllocate(ulong size, out ulong address);

    /// <summary><c>mach_vm_deallocate</c>: frees memory from <see cref="VmAllocate"/> or received out of line.</summary>
    KernReturn VmDeallocate(ulong address, ulong size);

    /// <summary>
    /// <c>bootstrap_check_in</c>: registers <paramref name="serviceName"/> and returns its receive right. On Linux in the
    /// user's domain, or with <paramref name="systemDomain"/> in the system domain (root only); on Darwin in the domain
    /// of the process's bootstrap port, which launchd chose when it started the process (<paramref name="systemDomain"/>
    /// is not passed on: a LaunchDaemon's names are in the system domain).
    /// </summary>
    BootstrapStatus BootstrapCheckIn(string serviceName, bool systemDomain, out uint receiveRight);

    /// <summary><c>bootstrap_look_up</c>: a send right to the service registered under <paramref name="serviceName"/> (the user's domain, then the system domain).</summary>
    BootstrapStatus BootstrapLookUp(string serviceName, out uint sendRight);

    /// <summary>
    /// Whether look-ups of the name <paramref name="receiveRight"/> was checked in under still reach it. Always true with
    /// launchd; the Linux emulation's name is files another process of the user can remove or replace.
    /// </summary>
    bool BootstrapNameHeld(uint receiveRight);

    /// <summary>What can make a bootstrap call return <c>BOOTSTRAP_NOT_PRIVILEGED</c> here: a sentence ending the error message.</summary>
    string BootstrapDenialReason { get; }

    /// <summary>
    /// What can make a send return <c>MACH_SEND_NO_BUFFER</c> or a bootstrap call <c>BOOTSTRAP_NO_MEMORY</c> here: a
    /// sentence ending the error message.
    /// </summary>
    string ResourceShortageReason { get; }
}
