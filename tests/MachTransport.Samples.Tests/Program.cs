// The test assembly doubles as a client process the tests kill in the middle of a Store ("partial-store").
using MachTransport.Samples.Tests.Infrastructure;

namespace MachTransport.Samples.Tests;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["partial-store", string serviceName, string queue])
        {
            return await PartialStore.RunAsync(serviceName, queue);
        }

        await Console.Error.WriteLineAsync("usage: MachTransport.Samples.Tests partial-store <mach-service> <queue> (tests run through dotnet test)");
        return 2;
    }
}
