namespace MachTransport.Mach.Abi;

/// <summary><c>mach_msg_type_name_t</c> dispositions (osfmk/mach/message.h).</summary>
internal enum MachMsgTypeName : uint
{
    None = 0,
    PortName = 15,
    MoveReceive = 16,
    MoveSend = 17,
    MoveSendOnce = 18,
    CopySend = 19,
    MakeSend = 20,
    MakeSendOnce = 21,
    CopyReceive = 22,

    /// <summary>Received-side alias of <see cref="MoveReceive"/>.</summary>
    PortReceive = MoveReceive,
    /// <summary>Received-side alias of <see cref="MoveSend"/>.</summary>
    PortSend = MoveSend,
    /// <summary>Received-side alias of <see cref="MoveSendOnce"/>.</summary>
    PortSendOnce = MoveSendOnce,
}
