// Reads the transport's own meter (MachTransport) in this process: DATA messages each way, how many went out of
// line, and writes that waited for the peer's credit. Client connections are the only Mach users in this process,
// so a delta around a batch is that batch's.
using System.Diagnostics.Metrics;

namespace MachTransport.Benchmarks;

internal sealed class MachCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _sent;
    private long _received;
    private long _outOfLine;
    private long _stalls;

    public MachCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "MachTransport")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, _, _, _) =>
        {
            switch (instrument.Name)
            {
                case "machtransport.bytes.sent":
                    Interlocked.Increment(ref _sent);
                    break;
                case "machtransport.bytes.received":
                    Interlocked.Increment(ref _received);
                    break;
                case "machtransport.messages.ool":
                    Interlocked.Increment(ref _outOfLine);
                    break;
                case "machtransport.credit.stalls":
                    Interlocked.Increment(ref _stalls);
                    break;
                default:
                    break;
            }
        });
        _listener.Start();
    }

    public Snapshot Read() => new(Volatile.Read(ref _sent), Volatile.Read(ref _received), Volatile.Read(ref _outOfLine), Volatile.Read(ref _stalls));

    public void Dispose() => _listener.Dispose();

    /// <summary>DATA messages sent and received, those of them out of line, and credit stalls.</summary>
    internal readonly record struct Snapshot(long Sent, long Received, long OutOfLine, long Stalls)
    {
        public static Snapshot operator -(Snapshot a, Snapshot b) => new(a.Sent - b.Sent, a.Received - b.Received, a.OutOfLine - b.OutOfLine, a.Stalls - b.Stalls);

        public static Snapshot operator +(Snapshot a, Snapshot b) => new(a.Sent + b.Sent, a.Received + b.Received, a.OutOfLine + b.OutOfLine, a.Stalls + b.Stalls);
    }
}
