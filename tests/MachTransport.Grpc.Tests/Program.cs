// The test assembly doubles as the server process of its cross-process tests ("serve <mach-service>") and as a
// latency measurement ("measure": unary calls over Mach vs TCP, printed, not asserted).
using MachTransport.Grpc.Tests.Infrastructure;
using MachTransport.Grpc.Tests.Server;

namespace MachTransport.Grpc.Tests;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["serve", string serviceName]:
                return await TesterServer.RunAsync(serviceName);
            case ["measure"]:
                return await UnaryLatency.RunAsync();
            default:
                await Console.Error.WriteLineAsync("usage: MachTransport.Grpc.Tests serve <mach-service> | measure (tests run through dotnet test)");
                return 2;
        }
    }
}
