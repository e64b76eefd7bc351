namespace MachTransport.Mach.Abi;

/// <summary><c>mach_msg_return_t</c> values used by the transport (osfmk/mach/message.h).</summary>
internal enum MachMsgReturn
{
    Success = 0,
    SendInvalidData = 0x10000002,
    SendInvalidDest = 0x10000003,
    SendTimedOut = 0x10000004,
    SendInterrupted = 0x10000007,
    SendMsgTooSmall = 0x10000008,
    SendInvalidReply = 0x10000009,
    SendInvalidRight = 0x1000000a,
    SendInvalidMemory = 0x1000000c,
    SendNoBuffer = 0x1000000d,
    SendTooLarge = 0x1000000e,
    SendInvalidType = 0x1000000f,
    SendInvalidHeader = 0x10000010,
    ReceiveInvalidName = 0x10004002,
    ReceiveTimedOut = 0x10004003,
    ReceiveTooLarge = 0x10004004,
    ReceiveInterrupted = 0x10004005,
    ReceivePortChanged = 0x10004006,
    ReceiveInvalidData = 0x10004008,
    ReceivePortDied = 0x10004009,
    ReceiveHeaderError = 0x1000400b,
    ReceiveBodyError = 0x1000400c,
    ReceiveInvalidType = 0x1000400d,
    ReceiveInvalidTrailer = 0x1000400f,
    ReceiveInvalidArguments = 0x10004013,
}
