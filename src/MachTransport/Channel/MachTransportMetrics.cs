using System.Diagnostics.Metrics;

namespace MachTransport.Channel;

/// <summary>Instruments of the "MachTransport" meter; one set per process, tagged with the side ("server" / "client").</summary>
internal static class MachTransportMetrics
{
    public const string MeterName = "MachTransport";

    private static readonly Meter s_meter = new(MeterName);

    public static readonly UpDownCounter<long> ActiveConnections = s_meter.CreateUpDownCounter<long>(
        "machtransport.connections.active", "{connection}", "Connections currently open.");

    public static readonly Counter<long> TotalConnections = s_meter.CreateCounter<long>(
        "machtransport.connections.total", "{connection}", "Connections established since start.");

    public static readonly Counter<long> BytesReceived = s_meter.CreateCounter<long>(
        "machtransport.bytes.received", "By", "Payload bytes received in DATA messages.");

    public static readonly Counter<long> BytesSent = s_meter.CreateCounter<long>(
        "machtransport.bytes.sent", "By", "Payload bytes sent in DATA messages.");

    public static readonly Counter<long> OutOfLineMessages = s_meter.CreateCounter<long>(
        "machtransport.messages.ool", "{message}", "DATA messages whose payload travelled out of line (sent or received).");

    public static readonly Counter<long> RejectedPeers = s_meter.CreateCounter<long>(
        "machtransport.peers.rejected", "{connection}", "CONNECT requests refused by the peer policy.");

    public static readonly Counter<long> ProtocolErrors = s_meter.CreateCounter<long>(
        "machtransport.protocol.errors", "{error}", "Malformed or out-of-protocol messages from peers.");
}
