using System.Collections.Concurrent;
using System.Threading.Channels;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Rights;
using Microsoft.Extensions.Logging;

namespace MachTransport.Channel;

/// <summary>
/// The server half of the handshake for one checked-in service: owns the service port's receive right and its own
/// receive loop, reads each CONNECT, checks it, admits it under a <see cref="MachAdmissionPolicy"/>, answers ACCEPT
/// from a fresh per-connection port or REJECT, and hands out ready channels (<see cref="MachChannel.Peer"/> is the
/// peer's kernel-verified identity). This file holds its lifetime; MachAcceptor.Handshake.cs handles the CONNECTs.
/// Once unbound it answers every CONNECT with REJECT "shutting down", after disposal too (<see cref="MachRetiredServices"/>).
/// </summary>
internal sealed partial class MachAcceptor : IMachPortHandler, IAsyncDisposable
{
    private readonly IMachKernel _kernel;
    private readonly string _serviceName;
    private readonly bool _systemDomain;
    private readonly ChannelSettings _settings;
    private readonly ILogger _logger;
    private readonly MachAdmissionPolicy _policy;
    private readonly MachPeerAccounting _accounting;
    private readonly MachReceiveLoop _loop;
    private readonly MachReceiveRight _service;
    private readonly Channel<MachChannel> _accepted = System.Threading.Channels.Channel.CreateUnbounded<MachChannel>(
        new UnboundedChannelOptions { SingleWriter = true });
    private readonly ConcurrentDictionary<MachChannel, byte> _live = new();
    private volatile bool _unbound;
    private int _disposed;

    private MachAcceptor(IMachKernel kernel, string serviceName, bool systemDomain, MachAdmissionPolicy policy, ChannelSettings settings, MachReceiveRight service)
    {
        _kernel = kernel;
        _serviceName = serviceName;
        _systemDomain = systemDomain;
        _settings = settings;
        _logger = settings.Logger;
        _policy = policy;
        _accounting = new MachPeerAccounting(policy);
        _service = service;
        _loop = new MachReceiveLoop(kernel, $"server {serviceName}", _logger);
        _loop.Register(_service, this);
    }

    /// <summary>
    /// Checks <paramref name="serviceName"/> in (or takes back the port of an acceptor of it stopped earlier in this
    /// process) and starts answering CONNECTs. A name another process holds fails with the bootstrap's
    /// <see cref="MachBootstrapException"/> (<see cref="MachBootstrapException.IsNameTaken"/>).
    /// </summary>
    public static MachAcceptor Bind(IMachKernel kernel, string serviceName, bool systemDomain, MachAdmissionPolicy policy, ChannelSettings settings)
    {
        MachReceiveRight service = MachRetiredServices.TryReclaim(serviceName, systemDomain) ?? MachBootstrap.CheckIn(kernel, serviceName, systemDomain);
        try
        {
            service.SetQueueLimit(MachPort.QueueLimitMax);
            return new MachAcceptor(kernel, serviceName, systemDomain, policy, settings, service);
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    public string ServiceName => _serviceName;

    /// <summary>Whether look-ups of the service name still reach this acceptor's port (another process may have taken the name).</summary>
    public bool NameHeld => _kernel.BootstrapNameHeld(_service.Name);

    /// <summary>The next ready channel; null once unbound or when <paramref name="cancellationToken"/> fires.</summary>
    public async ValueTask<MachChannel?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (await _accepted.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_accepted.Reader.TryRead(out MachChannel? channel))
                {
                    return channel;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    /// <summary>
    /// Stops admitting: every later CONNECT gets REJECT "shutting down", and <see cref="AcceptAsync"/> ends.
    /// Established connections go on.
    /// </summary>
    public void Unbind()
    {
        _unbound = true;
        _accepted.Writer.TryComplete();
    }

    /// <summary>
    /// Unbinds, aborts every connection this acceptor made (claimed or not) and retires the service port, which keeps
    /// answering REJECT "shutting down" for the life of the process.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Unbind();
        while (_accepted.Reader.TryRead(out MachChannel? unclaimed))
        {
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }

        foreach (MachChannel channel in _live.Keys)
        {
            channel.Abort("the listener was disposed");
            await channel.DisposeAsync().ConfigureAwait(false);
        }

        _loop.Release(_service);
        MachRetiredServices.Retire(_serviceName, _systemDomain, _service);
        await _loop.DisposeAsync().ConfigureAwait(false);
    }
}
