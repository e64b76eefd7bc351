// The test assembly doubles as the server process of its cross-process tests ("serve <mach-service> [system]") and as
// the client the cross-user tests run as another user ("call <mach-service>").
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
            case ["serve", string serviceName, "system"]:
                return await TesterServer.RunAsync(serviceName, systemDomain: true);
            case ["call", string serviceName]:
                await OtherUserClient.CallAsync(serviceName);
                return 0;
        }

        await Console.Error.WriteLineAsync("usage: MachTransport.Grpc.Tests serve <mach-service> [system] | call <mach-service> (tests run through dotnet test)");
        return 2;
    }
}
