using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace MessageStore;

/// <summary>An item as the database has it: everything but its bytes, which stay on disk until a client retrieves it.</summary>
internal sealed record ItemRow(long Sequence, string Id, string Queue, string ClientRef, int Length);

/// <summary>
/// Where the items live: one SQLite file (Microsoft.Data.Sqlite). Each item is written in one transaction, so a
/// server killed mid-store leaves the item wholly there or not at all; the reply to a Store goes out only after the
/// commit (synchronous=FULL), so every item a client was told is stored survives a crash. Bytes are streamed into
/// and out of the blob in chunks.
/// </summary>
internal sealed class ItemDatabase : IDisposable
{
    private const int Chunk = 1024 * 1024;

    private readonly Lock _lock = new(); // one connection, one statement at a time
    private readonly SqliteConnection _connection;

    public ItemDatabase(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Path = System.IO.Path.Combine(directory, "items.db");
        if (!OperatingSystem.IsWindows() && !File.Exists(Path))
        {
            // The users' items: 0600, and SQLite gives its -wal and -shm files the database file's mode.
            using var created = new FileStream(Path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
        _connection.Open();
        Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS items (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                queue TEXT NOT NULL,
                client_ref TEXT NOT NULL,
                data BLOB NOT NULL);
            """);
    }

    public string Path { get; }

    /// <summary>$XDG_DATA_HOME (else ~/.local/share; Application Support on macOS) /machtransport-messagestore.</summary>
    public static string DefaultDirectory
    {
        get
        {
            string data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg ? xdg
                : OperatingSystem.IsLinux() ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
                : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            return System.IO.Path.Combine(data, "machtransport-messagestore");
        }
    }

    /// <summary>Every item, oldest first.</summary>
    public List<ItemRow> LoadAll()
    {
        lock (_lock)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT sequence, id, queue, client_ref, length(data) FROM items ORDER BY sequence";
            using SqliteDataReader reader = command.ExecuteReader();
            var rows = new List<ItemRow>();
            while (reader.Read())
            {
                rows.Add(new ItemRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4)));
            }

            return rows;
        }
    }

    /// <summary>Writes an item in one transaction; its sequence number once committed.</summary>
    public long Add(string id, string queue, string clientRef, ByteString data)
    {
        lock (_lock)
        {
            using SqliteTransaction transaction = _connection.BeginTransaction();
            using SqliteCommand insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO items (id, queue, client_ref, data) VALUES ($id, $queue, $ref, zeroblob($length)); SELECT last_insert_rowid();";
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$queue", queue);
            insert.Parameters.AddWithValue("$ref", clientRef);
            insert.Parameters.AddWithValue("$length", data.Length);
            long sequence = (long)insert.ExecuteScalar()!;
            using (var blob = new SqliteBlob(_connection, "items", "data", sequence))
            {
                for (int offset = 0; offset < data.Length; offset += Chunk)
                {
                    blob.Write(data.Span.Slice(offset, Math.Min(Chunk, data.Length - offset)));
                }
            }

            transaction.Commit();
            return sequence;
        }
    }

    /// <summary>The bytes of an item, read from its blob in chunks.</summary>
    public ByteString Read(long sequence, int length)
    {
        byte[] data = GC.AllocateUninitializedArray<byte>(length);
        lock (_lock)
        {
            using var blob = new SqliteBlob(_connection, "items", "data", sequence, readOnly: true);
            for (int offset = 0; offset < length; offset += Chunk)
            {
                blob.ReadExactly(data, offset, Math.Min(Chunk, length - offset));
            }
        }

        return UnsafeByteOperations.UnsafeWrap(data); // the array is this ByteString's alone
    }

    public void Delete(long sequence)
    {
        lock (_lock)
        {
            using SqliteCommand delete = _connection.CreateCommand();
            delete.CommandText = "DELETE FROM items WHERE sequence = $sequence";
            delete.Parameters.AddWithValue("$sequence", sequence);
            delete.ExecuteNonQuery();
        }
    }

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
