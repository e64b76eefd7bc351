// Two real channels in one process, each on its own receive loop (the listener's and the process-wide client
// loop), as Kestrel's in-memory test transport pairs two ends: the protocol tests drive both ends directly.
using MachTransport.Channel;
using MachTransport.Client;

namespace MachTransport.Tests.Protocol;

internal sealed class ChannelPair : IAsyncDisposable
{
    private ChannelPair(ProtocolServer server, MachChannel client, MachChannel accepted)
    {
        Host = server;
        Client = client;
        Server = accepted;
    }

    /// <summary>The listener, with the server side's own meter and log.</summary>
    public ProtocolServer Host { get; }

    public MachChannel Client { get; }

    public MachChannel Server { get; }

    public static async Task<ChannelPair> OpenAsync(MachTransportOptions? server = null, MachClientOptions? client = null)
    {
        ProtocolServer host = ProtocolServer.Bind(server);
        try
        {
            MachChannel connected = await MachClientConnector.ConnectAsync(host.Service, client ?? new MachClientOptions(), CancellationToken.None)
                .WaitAsync(ProtocolServer.Bound);
            return new ChannelPair(host, connected, await host.AcceptAsync());
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Host.DisposeAsync();
    }
}
