using System.Diagnostics.Metrics;

namespace MachTransport.Infrastructure;

/// <summary>
/// Instruments of the "MachTransport" meter for one side ("server" / "client", tag <c>machtransport.side</c>):
/// what Kestrel's and HttpClient's own connection metrics cannot see. Connection counts and durations are theirs
/// (<c>kestrel.active_connections</c>, <c>kestrel.connection.duration</c>, <c>http.client.open_connections</c>).
/// The server's meter comes from the host's <see cref="IMeterFactory"/>; clients have no container, so they share
/// one process-wide meter, as their receive loop is process-wide (and as System.Net.Http's meter is by default).
/// </summary>
internal sealed class MachTransportMetrics
{
    public const string MeterName = "MachTransport";

    private static readonly Lazy<MachTransportMetrics> s_client = new(() => new MachTransportMetrics(new Meter(MeterName), "client"));

    private static readonly KeyValuePair<string, object?> s_sent = new("machtransport.direction", "sent");
    private static readonly KeyValuePair<string, object?> s_received = new("machtransport.direction", "received");

    private readonly KeyValuePair<string, object?> _side;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _outOfLineMessages;
    private readonly Counter<long> _outOfLineBytes;
    private readonly Counter<long> _creditStalls;
    private readonly Counter<long> _rejectedPeers;
    private readonly Counter<long> _protocolErrors;

    public MachTransportMetrics(Meter meter, string side)
    {
        _side = new("machtransport.side", side);
        _bytesSent = meter.CreateCounter<long>("machtransport.bytes.sent", "By", "Payload bytes sent in DATA messages.");
        _bytesReceived = meter.CreateCounter<long>("machtransport.bytes.received", "By", "Payload bytes received in DATA messages.");
        _outOfLineMessages = meter.CreateCounter<long>(
            "machtransport.messages.ool", "{message}", "DATA messages whose payload travelled out of line (tag machtransport.direction: sent or received).");
        _outOfLineBytes = meter.CreateCounter<long>(
            "machtransport.bytes.ool", "By", "Payload bytes that travelled out of line (tag machtransport.direction: sent or received).");
        _creditStalls = meter.CreateCounter<long>(
            "machtransport.credit.stalls", "{stall}", "Times a write had to wait for the peer to grant credit (the peer reads slower than we write).");
        _rejectedPeers = meter.CreateCounter<long>(
            "machtransport.peers.rejected", "{connection}", "CONNECT requests refused by the peer policy.");
        _protocolErrors = meter.CreateCounter<long>(
            "machtransport.protocol.errors", "{error}", "Malformed or out-of-protocol messages from peers.");
    }

    /// <summary>The instruments of every client connection in this process.</summary>
    public static MachTransportMetrics Client => s_client.Value;

    public void Sent(long bytes, bool outOfLine)
    {
        _bytesSent.Add(bytes, _side);
        OutOfLine(bytes, outOfLine, s_sent);
    }

    public void Received(long bytes, bool outOfLine)
    {
        _bytesReceived.Add(bytes, _side);
        OutOfLine(bytes, outOfLine, s_received);
    }

    public void CreditStall() => _creditStalls.Add(1, _side);

    public void PeerRejected() => _rejectedPeers.Add(1, _side);

    public void ProtocolError() => _protocolErrors.Add(1, _side);

    private void OutOfLine(long bytes, bool outOfLine, KeyValuePair<string, object?> direction)
    {
        if (outOfLine)
        {
            _outOfLineMessages.Add(1, _side, direction);
            _outOfLineBytes.Add(bytes, _side, direction);
        }
    }
}
