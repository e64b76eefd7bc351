using System.Security.Cryptography;
using MachTransport.Samples.Tests.Infrastructure;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>Issue 20 item 3: the items are on disk (SQLite, --data); a server SIGKILLed and started again still has every stored, unconfirmed item, in order, and no part of one it was receiving.</summary>
[Trait("Category", "Samples")]
public sealed class MessageStorePersistenceTests : IDisposable
{
    private const string Sample = "MessageStore.dll";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly string _data = Directory.CreateTempSubdirectory("messagestore-persist-").FullName;
    private readonly string _state = Directory.CreateTempSubdirectory("messagestore-persist-state-").FullName;

    public void Dispose()
    {
        Directory.Delete(_data, recursive: true);
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task StoredItemsSurviveAServerKilledAndStartedAgainAndConfirmedOnesDoNotComeBack()
    {
        string file = Path.Combine(_state, "item.bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(10 * 1024 * 1024));
        string service = TestEnvironment.UniqueServiceName("messagestore-persist");
        await using (SampleProcess server = await StartServerAsync(service))
        {
            foreach (string item in new[] { "first", "@" + file, "third" })
            {
                await RunClientAsync(service, 0, "send", item);
            }

            Assert.Contains("verified, text: first", await RunClientAsync(service, 0, "retrieve"), StringComparison.Ordinal); // confirmed: gone
            await server.KillAsync();
        }

        // The items are the users' data: the database and its companions are theirs alone.
        foreach (string dataFile in Directory.GetFiles(_data))
        {
            Assert.True(File.GetUnixFileMode(dataFile) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{dataFile}: {File.GetUnixFileMode(dataFile)}");
        }

        string again = TestEnvironment.UniqueServiceName("messagestore-persist");
        await using (SampleProcess restarted = await StartServerAsync(again))
        {
            await restarted.WaitForErrorAsync(line => line.Contains($"2 items ({10 * 1024 * 1024 + 5} bytes) kept from before", StringComparison.Ordinal), Timeout);
            string retrieved = Path.Combine(_state, "retrieved.bin");
            Assert.Contains($"({10 * 1024 * 1024} bytes): verified\nwritten to {retrieved}", await RunClientAsync(again, 0, "retrieve", "--out", retrieved), StringComparison.Ordinal);
            Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(retrieved));
            Assert.Contains("verified, text: third", await RunClientAsync(again, 0, "retrieve"), StringComparison.Ordinal);
            await RunClientAsync(again, 3, "retrieve"); // empty
            Assert.Equal(0, await restarted.StopAsync());
        }
    }

    [Fact]
    public async Task AServerKilledWhileReceivingAnItemHasNoPartOfItAfterARestart()
    {
        string service = TestEnvironment.UniqueServiceName("messagestore-partial");
        await using (SampleProcess server = await StartServerAsync(service))
        {
            await using SampleProcess partial = SampleProcess.Start("MachTransport.Samples.Tests.dll", "partial-store", service, "q");
            await partial.WaitForOutputAsync(line => line == "HALF SENT", Timeout);
            await server.KillAsync();
        }

        string again = TestEnvironment.UniqueServiceName("messagestore-partial");
        await using SampleProcess restarted = await StartServerAsync(again);
        await restarted.WaitForErrorAsync(line => line.Contains("0 items (0 bytes) kept from before", StringComparison.Ordinal), Timeout);
        await RunClientAsync(again, 3, "retrieve");
        Assert.Equal(0, await restarted.StopAsync());
    }

    private Task<SampleProcess> StartServerAsync(string service) => SampleProcess.StartServerAsync(Sample, "--service", service, "--data", _data);

    private async Task<string> RunClientAsync(string service, int expectedExitCode, params string[] command)
    {
        await using SampleProcess client = SampleProcess.Start(Sample, ["client", "--service", service, "--queue", "q", "--state", _state, .. command]);
        Assert.True(await client.WaitForExitAsync(Timeout) == expectedExitCode, client.ToString());
        return client.Output;
    }
}
