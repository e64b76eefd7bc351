using System.Diagnostics.Metrics;
using System.Globalization;

namespace MessageStore;

/// <summary>
/// How this process's data travelled over Mach, each way: its Mach messages that carried their bytes inline and
/// those that carried them out of line, read from the transport's "MachTransport" meter: every DATA message is one
/// "machtransport.bytes.sent" or "machtransport.bytes.received" measurement, and one that went out of line is also a
/// "machtransport.messages.ool" measurement tagged with its direction.
/// </summary>
internal sealed class TransportTraffic : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _sent;
    private long _sentOutOfLine;
    private long _received;
    private long _receivedOutOfLine;

    public TransportTraffic()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "MachTransport" && instrument.Name is "machtransport.bytes.sent" or "machtransport.bytes.received" or "machtransport.messages.ool")
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (instrument, _, tags, state) => ((TransportTraffic)state!).Count(instrument.Name, tags));
        _listener.Start();
    }

    /// <summary>The counts so far, to subtract from later ones.</summary>
    public Counts Now => new(Interlocked.Read(ref _sent), Interlocked.Read(ref _sentOutOfLine), Interlocked.Read(ref _received), Interlocked.Read(ref _receivedOutOfLine));

    public void Dispose() => _listener.Dispose();

    private void Count(string instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (instrument)
        {
            case "machtransport.bytes.sent":
                Interlocked.Increment(ref _sent);
                break;
            case "machtransport.bytes.received":
                Interlocked.Increment(ref _received);
                break;
            default:
                Interlocked.Increment(ref IsSent(tags) ? ref _sentOutOfLine : ref _receivedOutOfLine);
                break;
        }
    }

    private static bool IsSent(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "machtransport.direction")
            {
                return tag.Value is "sent";
            }
        }

        return false;
    }

    /// <summary>Messages sent and received, and how many of each went out of line.</summary>
    internal readonly record struct Counts(long Sent, long SentOutOfLine, long Received, long ReceivedOutOfLine)
    {
        public static Counts operator -(Counts after, Counts before) =>
            new(after.Sent - before.Sent, after.SentOutOfLine - before.SentOutOfLine, after.Received - before.Received, after.ReceivedOutOfLine - before.ReceivedOutOfLine);

        /// <summary>One line: "over Mach: sent N messages inline and M out of line; received ...".</summary>
        public override string ToString() => string.Create(
            CultureInfo.InvariantCulture,
            $"over Mach: sent {Sent - SentOutOfLine} messages inline and {SentOutOfLine} out of line; received {Received - ReceivedOutOfLine} inline and {ReceivedOutOfLine} out of line");
    }
}
