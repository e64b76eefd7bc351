using System.Security.Cryptography;
using System.Text;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples;
using MessageStore.Protos;
using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>
/// The demo: the server as a child process; this process stores a text and a 1 MiB item, retrieves both (verified
/// against its signatures, kept in a temp folder for the demo) and then finds the queue empty.
/// </summary>
internal static class StoreDemo
{
    public static async Task<int> RunAsync(string serviceName, string queue)
    {
        string state = Directory.CreateTempSubdirectory("messagestore-demo-").FullName;
        try
        {
            await using ServerChildProcess server = await ServerChildProcess.StartAsync("--service", serviceName, "--data", Path.Combine(state, "data"));
            Console.WriteLine($"server pid {server.Id} stores items on Mach service {serviceName}; this client is pid {Environment.ProcessId}");
            using ILoggerFactory loggers = LoggerFactory.Create(SampleLogging.Configure);
            using GrpcChannel channel = MachGrpcChannel.ForService(serviceName, StoreClient.ChannelOptions(loggers));
            var client = new StoreClient(new ItemStore.ItemStoreClient(channel), queue, new SignatureBook(state), loggers.CreateLogger<StoreClient>());

            bool stored = await client.SendAsync(Encoding.UTF8.GetBytes("hello over Mach"))
                && await client.SendAsync(RandomNumberGenerator.GetBytes(1024 * 1024));
            Verdict[] verdicts = [await client.RetrieveAsync(), await client.RetrieveAsync(), await client.RetrieveAsync()];
            return stored && verdicts is [Verdict.Verified, Verdict.Verified, Verdict.Empty] ? 0 : 1;
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }
}
