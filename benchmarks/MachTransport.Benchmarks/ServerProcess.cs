// A server process of the harness (this assembly with "server ..."): started, awaited until it listens, stopped by
// closing its standard input.
using System.Diagnostics;
using System.Globalization;

namespace MachTransport.Benchmarks;

internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, ServerAddresses addresses, Variant variant, int tcpPort)
    {
        _process = process;
        Addresses = addresses;
        Variant = variant;
        TcpPort = tcpPort;
    }

    public ServerAddresses Addresses { get; }

    public Variant Variant { get; }

    public int TcpPort { get; }

    public int Pid => _process.Id;

    public static async Task<ServerProcess> StartAsync(ServerAddresses addresses, Variant variant)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        start.ArgumentList.Add("server");
        start.ArgumentList.Add(addresses.Id);
        start.ArgumentList.Add(addresses.Directory);
        foreach (string argument in variant.ToArguments())
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        string? ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (ready is null || !ready.StartsWith("READY ", StringComparison.Ordinal))
        {
            process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"The server process did not start: '{ready}'.");
        }

        int port = int.Parse(ready.Split(' ')[1], CultureInfo.InvariantCulture);
        return new ServerProcess(process, addresses, variant, port);
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
