using MachTransport.Mach.Messages;

namespace MachTransport.Channel;

/// <summary>Receives what a <see cref="MachReceiveLoop"/> routes to it. Both calls run on the loop's thread and must not block.</summary>
internal interface IMachPortHandler
{
    /// <summary>A message arrived on the handler's port. The handler owns every right and region in it.</summary>
    void OnMessage(in MachMessageReader message);

    /// <summary>
    /// The peer port the handler watches died. The loop already delivered every message still queued on the
    /// handler's own port; <paramref name="deadName"/> carries the notification's extra user reference, which the
    /// handler now owns.
    /// </summary>
    void OnDeadName(uint deadName);

    /// <summary>
    /// One of the calls above threw (a bug, or input nobody foresaw): give up what this handler serves, quietly.
    /// The loop goes on for every other port; rights the failed call had not taken over yet may be lost.
    /// </summary>
    void OnFailed(Exception error);
}
