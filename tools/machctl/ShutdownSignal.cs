// Ctrl+C (SIGINT) and SIGTERM as a cancellation token: the first asks for a clean shutdown, a second one ends the process at once.
using System.Runtime.InteropServices;

namespace MachTransport.Tools;

/// <summary>Turns SIGINT and SIGTERM into <see cref="Token"/>; the default handling is restored after the first.</summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public ShutdownSignal()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _requested.Token;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _requested.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        // The first signal is ours (clean shutdown); a repeated one gets the default action and ends the process.
        context.Cancel = !_requested.IsCancellationRequested;
        _requested.Cancel();
    }
}
