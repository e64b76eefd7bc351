// The test assembly doubles as the server process of its cross-process tests ("serve <mach-service>").
using MachTransport.Grpc.Tests.Server;

namespace MachTransport.Grpc.Tests;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["serve", string serviceName])
        {
            return await TesterServer.RunAsync(serviceName);
        }

        await Console.Error.WriteLineAsync("usage: MachTransport.Grpc.Tests serve <mach-service> (tests run through dotnet test)");
        return 2;
    }
}
