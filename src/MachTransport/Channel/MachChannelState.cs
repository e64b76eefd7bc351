namespace MachTransport.Channel;

/// <summary>
/// The lifetime of a channel. It only moves forward: Open, then Aborted (nothing more is sent or delivered; the
/// application learns why) and finally Released (the ports are given back and peers see ours die).
/// </summary>
internal enum MachChannelState
{
    Open,
    Aborted,
    Released,
}

/// <summary>
/// The inbound direction. Reading: DATA goes to the input pipe. ReaderGone: the application stopped reading, so DATA
/// is dropped and its credit given straight back. Completed: FIN or an abort ended the input; any DATA after that is
/// a protocol violation.
/// </summary>
internal enum MachInputState
{
    Reading,
    ReaderGone,
    Completed,
}
