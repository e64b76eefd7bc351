// The test assembly doubles as client processes the tests kill in the middle of a Store ("partial-store") or of a
// retrieval ("half-read-retrieve", "unconfirmed-retrieve").
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

        if (args is ["half-read-retrieve", string service, string retrieveQueue])
        {
            return await InterruptedRetrieve.HalfReadAsync(service, retrieveQueue);
        }

        if (args is ["unconfirmed-retrieve", string service2, string unconfirmedQueue])
        {
            return await InterruptedRetrieve.UnconfirmedAsync(service2, unconfirmedQueue);
        }

        await Console.Error.WriteLineAsync("usage: MachTransport.Samples.Tests partial-store | half-read-retrieve | unconfirmed-retrieve <mach-service> <queue> (tests run through dotnet test)");
        return 2;
    }
}
