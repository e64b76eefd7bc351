using MachTransport.Mach.Messages;
using Microsoft.Extensions.Logging;

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

    /// <summary>
    /// Where the loop logs what concerns this handler's port (the handler threw, or the loop stopped under it): the log
    /// of whoever opened it, so a process-wide loop serving many clients logs each one's events to its own factory.
    /// Null: the loop's own logger.
    /// </summary>
    ILogger? Logger => null;
}
