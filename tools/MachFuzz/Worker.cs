// One fuzzing worker: its own raw connection to the service port, and a connection of the protocol it establishes
// as a real client (then writes raw datagrams on a connection of its own to the server's port of it). A fresh
// connection gets the HTTP/2 preface first, so what follows reaches a connection Kestrel is serving.
using MachTransport.Channel;
using MachTransport.Client;
using MachTransport.Mach;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;

namespace MachTransport.Fuzz;

internal sealed class Worker : IAsyncDisposable
{
    private const int BackpressureMilliseconds = 10_000;

    private readonly string _service;
    private readonly FuzzCounters _counters;
    private readonly MachSendRight _serviceRight;
    private readonly LinuxFd _serviceSocket;
    private readonly FdFactory _fds;
    private readonly List<int> _attached = [];
    private readonly Queue<long> _recent = new();
    private MachChannel? _channel;
    private LinuxFd? _connectionSocket;
    private bool _connectionBroken;

    public Worker(string service, FuzzCounters counters)
    {
        _service = service;
        _counters = counters;
        IMachKernel kernel = MachKernel.Current;
        _serviceRight = MachBootstrap.LookUp(kernel, service);
        _serviceSocket = LinuxKernel.Instance.DuplicateSendEnd(_serviceRight.Name);
        _fds = new FdFactory(kernel, _serviceRight.Name);
    }

    public FuzzCounters Counters => _counters;

    /// <summary>The indices this worker sent last (the suspects when the server dies).</summary>
    public IReadOnlyCollection<long> Recent => _recent;

    public async Task SendAsync(FuzzCase fuzzCase)
    {
        _recent.Enqueue(fuzzCase.Index);
        while (_recent.Count > 16)
        {
            _ = _recent.Dequeue();
        }

        LinuxFd socket = _serviceSocket;
        if (fuzzCase.Target == FuzzTarget.Connection)
        {
            if (fuzzCase.FreshConnection || _channel is null || _connectionBroken || _channel.Closed.IsCancellationRequested)
            {
                await ReconnectAsync().ConfigureAwait(false);
            }

            if (_connectionSocket is null)
            {
                _counters.Skipped++;
                return;
            }

            socket = _connectionSocket;
        }

        try
        {
            foreach (FdSpec spec in fuzzCase.Attachments)
            {
                _fds.Create(spec, _attached);
            }

            int error = await SendRawAsync(socket, fuzzCase.Datagram, _attached).ConfigureAwait(false);
            _counters.Count(error);
            if (error != 0 && fuzzCase.Target == FuzzTarget.Connection)
            {
                _connectionBroken = true;
            }
        }
        finally
        {
            foreach (int fd in _attached)
            {
                _ = Libc.close(fd);
            }

            _attached.Clear();
        }
    }

    /// <summary>Releases the connection and every port the worker made: the server must let go of all of it.</summary>
    public async ValueTask DisposeAsync()
    {
        await CloseConnectionAsync().ConfigureAwait(false);
        _fds.Dispose();
        _serviceSocket.Dispose();
        _serviceRight.Dispose();
    }

    private async Task ReconnectAsync()
    {
        await CloseConnectionAsync().ConfigureAwait(false);
        try
        {
            _channel = await MachClientConnector.ConnectAsync(_service, new MachClientOptions(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or MachException or MachConnectionRejectedException)
        {
            _counters.ConnectFailures++;
            return;
        }

        _counters.Connections++;
        await _channel.Input.CompleteAsync().ConfigureAwait(false); // nothing is read: the channel grants on arrival
        _fds.ConnectionPort = _channel.PeerPortName;
        _connectionSocket = LinuxKernel.Instance.DuplicateSendEnd(_channel.PeerPortName);
        if (_connectionSocket.IsInvalid || await SendRawAsync(_connectionSocket, CaseGenerator.InlineData(CaseGenerator.Http2Preface), []).ConfigureAwait(false) != 0)
        {
            _connectionBroken = true;
            return;
        }

        _counters.Preambles++;
    }

    private async Task CloseConnectionAsync()
    {
        _connectionSocket?.Dispose();
        _connectionSocket = null;
        _fds.ConnectionPort = 0;
        _connectionBroken = false;
        if (_channel is not null)
        {
            await _channel.DisposeAsync().ConfigureAwait(false);
            _channel = null;
        }
    }

    /// <summary>Sends without blocking; a full queue is waited out (bounded) as a sender honouring backpressure would. 0 or an errno.</summary>
    private static async Task<int> SendRawAsync(LinuxFd socket, byte[] datagram, List<int> fds)
    {
        long deadline = Environment.TickCount64 + BackpressureMilliseconds;
        int delay = 1;
        while (true)
        {
            int error = SeqPacket.Send(socket.Number, datagram, fds.ToArray());
            if (error != Libc.EAGAIN || Environment.TickCount64 > deadline)
            {
                return error;
            }

            await Task.Delay(delay).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
    }
}
