using System.Globalization;
using System.Security.Cryptography;
using MachTransport.Samples.Tests.Infrastructure;
using Grpc.Net.Client;
using MachTransport.Grpc;
using MessageStore.Protos;
using Microsoft.Data.Sqlite;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>Issue 20 item 3: the items are on disk (SQLite, --data); a server SIGKILLed and started again still has every stored, unconfirmed item, in order, and no part of one it was receiving, even one it was writing to the database.</summary>
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

    [Fact]
    public async Task AServerKilledBetweenTwoChunkWritesOfAnItemHasNoPartOfItAfterARestartAndKeepsEveryAcknowledgedItem()
    {
        const int ItemBytes = 10 * 1024 * 1024; // 10 chunks of 1 MiB
        const int StopAfter = 3;
        string file = Path.Combine(_state, "item.bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(ItemBytes));
        string service = TestEnvironment.UniqueServiceName("messagestore-midwrite");
        var stopInside = new Dictionary<string, string> { ["MESSAGESTORE_TEST_STOP_AFTER_CHUNKS"] = StopAfter.ToString(CultureInfo.InvariantCulture) };
        await using (SampleProcess server = await SampleProcess.StartServerAsync(Sample, stopInside, "--service", service, "--data", _data))
        {
            await RunClientAsync(service, 0, "send", "acknowledged"); // one chunk: the stop is for items with more to come
            await using SampleProcess sender = SampleProcess.Start(Sample, "client", "--service", service, "--queue", "q", "--state", _state, "send", "@" + file);
            await server.WaitForOutputAsync(line => line == $"STOPPED after chunk {StopAfter} of an item of {ItemBytes} bytes for queue 'q'", Timeout);
            await server.KillAsync();

            // Killed with part of the item on disk: its first chunks, which no item owns (beside the acknowledged item and its chunk).
            Assert.Equal((1L, 1L + StopAfter, (long)StopAfter), CountRows());
            Assert.True(await sender.WaitForExitAsync(Timeout) == 1, sender.ToString());
            Assert.Contains("store failed: ", sender.Output, StringComparison.Ordinal);
        }

        string again = TestEnvironment.UniqueServiceName("messagestore-midwrite");
        await using (SampleProcess restarted = await StartServerAsync(again))
        {
            await restarted.WaitForErrorAsync(line => line.Contains("1 items (12 bytes) kept from before", StringComparison.Ordinal), Timeout);
            await restarted.WaitForErrorAsync(line => line.Contains($"1 items a store had not finished when the last run ended (a crash, or a kill) were discarded: {StopAfter * 1024 * 1024} bytes of their chunks deleted", StringComparison.Ordinal), Timeout);
            Assert.Contains("verified, text: acknowledged", await RunClientAsync(again, 0, "retrieve"), StringComparison.Ordinal);
            await RunClientAsync(again, 3, "retrieve"); // empty: nothing of the item cut off
            Assert.Equal(0, await restarted.StopAsync());
        }

        Assert.Equal((0L, 0L, 0L), CountRows());
    }

    [Fact]
    public async Task ItemsKeptByTheFirstVersionEachInOneBlobAreServedInChunksAfterAnUpgrade()
    {
        byte[] large = RandomNumberGenerator.GetBytes((2 * 1024 * 1024) + 3); // more than one chunk of the new version
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_data, "items.db"), Pooling = false }.ToString()))
        {
            // The first version's schema (every item in one blob), as it wrote it.
            connection.Open();
            using SqliteCommand create = connection.CreateCommand();
            create.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE items (sequence INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL, client_ref TEXT NOT NULL, data BLOB NOT NULL);
                INSERT INTO items (id, queue, client_ref, data) VALUES ('old1', 'q', 'ref1', $large), ('old2', 'q', '', CAST('second' AS BLOB));
                """;
            create.Parameters.AddWithValue("$large", large);
            create.ExecuteNonQuery();
        }

        string service = TestEnvironment.UniqueServiceName("messagestore-upgrade");
        await using SampleProcess server = await StartServerAsync(service);
        await server.WaitForErrorAsync(line => line.Contains($"2 items ({large.Length + 6} bytes) kept from before", StringComparison.Ordinal), Timeout);
        using GrpcChannel channel = MachGrpcChannel.ForService(service);
        var client = new ItemStore.ItemStoreClient(channel);
        DateTime deadline = DateTime.UtcNow.Add(Timeout);
        RetrievedItem first = await client.RetrieveAsync("q", deadline);
        Assert.Equal(("old1", "ref1"), (first.Id, first.ClientRef));
        Assert.Equal(large, first.Data.ToByteArray());
        await client.ConfirmAsync(new ConfirmRequest { Queue = "q", Id = first.Id }, deadline: deadline);
        RetrievedItem second = await client.RetrieveAsync("q", deadline);
        Assert.Equal(("old2", "second"), (second.Id, second.Data.ToStringUtf8()));
        await client.ConfirmAsync(new ConfirmRequest { Queue = "q", Id = second.Id }, deadline: deadline);
        Assert.True((await client.RetrieveAsync("q", deadline)).Empty);
        Assert.Equal(0, await server.StopAsync());
        Assert.Equal((0L, 0L, 0L), CountRows());
    }

    // Items, chunk rows, and chunk rows no item owns in the store's database, read by a connection of the test's own.
    private (long Items, long Chunks, long Orphans) CountRows()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_data, "items.db"), Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM chunks), (SELECT count(*) FROM chunks WHERE upload NOT IN (SELECT upload FROM items))";
        using SqliteDataReader reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    private Task<SampleProcess> StartServerAsync(string service) => SampleProcess.StartServerAsync(Sample, "--service", service, "--data", _data);

    private async Task<string> RunClientAsync(string service, int expectedExitCode, params string[] command)
    {
        await using SampleProcess client = SampleProcess.Start(Sample, ["client", "--service", service, "--queue", "q", "--state", _state, .. command]);
        Assert.True(await client.WaitForExitAsync(Timeout) == expectedExitCode, client.ToString());
        return client.Output;
    }
}
