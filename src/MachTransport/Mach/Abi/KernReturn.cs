namespace MachTransport.Mach.Abi;

/// <summary><c>kern_return_t</c> values (osfmk/mach/kern_return.h).</summary>
internal enum KernReturn
{
    Success = 0,
    InvalidAddress = 1,
    ProtectionFailure = 2,
    NoSpace = 3,
    InvalidArgument = 4,
    Failure = 5,
    ResourceShortage = 6,
    NotReceiver = 7,
    NoAccess = 8,
    AlreadyInSet = 11,
    NotInSet = 12,
    NameExists = 13,
    Aborted = 14,
    InvalidName = 15,
    InvalidTask = 16,
    InvalidRight = 17,
    InvalidValue = 18,
    UrefsOverflow = 19,
    InvalidCapability = 20,
    RightExists = 21,
    NotSupported = 46,
    OperationTimedOut = 49,
}

/// <summary>Bootstrap (launchd) status codes (launchd liblaunch/bootstrap.h).</summary>
internal enum BootstrapStatus
{
    Success = 0,
    NotPrivileged = 1100,
    NameInUse = 1101,
    UnknownService = 1102,
    ServiceActive = 1103,
    BadCount = 1104,
    NoMemory = 1105,
    NoChildren = 1106,
}
