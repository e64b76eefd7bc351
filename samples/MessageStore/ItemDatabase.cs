using Microsoft.Data.Sqlite;

namespace MessageStore;

/// <summary>An item as the database has it: everything but its bytes, which stay on disk until a client retrieves it.</summary>
internal sealed record ItemRow(long Sequence, string Id, string Queue, string ClientRef, int Length, long Upload);

/// <summary>One stored chunk of an item: its row (for <see cref="SqliteBlob"/>) and its length.</summary>
internal readonly record struct ChunkRow(long RowId, int Length);

/// <summary>
/// Where the items live: one SQLite file (Microsoft.Data.Sqlite). An item's bytes arrive as chunk rows of its upload,
/// each written in a short transaction of its own as the client sends them (no transaction stays open while a client
/// is slow: SQLite has one writer, so a long one would hold up every other store and confirm); the item exists once
/// its row in <c>items</c> is committed (synchronous=FULL, which makes the chunks before it durable too, being earlier
/// in the same write-ahead log). Chunks without an item are a store cut off: never seen by a Retrieve, deleted at start.
/// </summary>
internal sealed class ItemDatabase : IDisposable
{
    /// <summary>The schema written by this version (PRAGMA user_version); 0 is the first one, which kept each item in one blob.</summary>
    private const int SchemaVersion = 2;

    private readonly Lock _lock = new(); // one connection, one statement at a time
    private readonly SqliteConnection _connection;
    private long _lastUpload;

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
        Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        using (SqliteTransaction schema = _connection.BeginTransaction())
        {
            bool firstVersion = Scalar("SELECT count(*) FROM pragma_table_info('items') WHERE name = 'data'", schema) > 0;
            if (firstVersion)
            {
                // Items of the first version, one blob each: they become one chunk each, copied inside SQLite.
                Execute("ALTER TABLE items RENAME TO items_v0", schema);
            }

            Execute("""
                CREATE TABLE IF NOT EXISTS items (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    queue TEXT NOT NULL,
                    client_ref TEXT NOT NULL,
                    length INTEGER NOT NULL,
                    upload INTEGER NOT NULL UNIQUE);
                CREATE TABLE IF NOT EXISTS chunks (
                    upload INTEGER NOT NULL,
                    ordinal INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    PRIMARY KEY (upload, ordinal));
                """, schema);
            if (firstVersion)
            {
                Execute("""
                    INSERT INTO chunks (upload, ordinal, data) SELECT sequence, 0, data FROM items_v0;
                    INSERT INTO items (sequence, id, queue, client_ref, length, upload) SELECT sequence, id, queue, client_ref, length(data), sequence FROM items_v0;
                    DROP TABLE items_v0;
                    """, schema);
            }

            Execute($"PRAGMA user_version = {SchemaVersion}", schema);

            // What a store cut off by a crash left: chunks no item owns.
            Discarded = (Scalar("SELECT count(DISTINCT upload) FROM chunks WHERE upload NOT IN (SELECT upload FROM items)", schema),
                Scalar("SELECT coalesce(sum(length(data)), 0) FROM chunks WHERE upload NOT IN (SELECT upload FROM items)", schema));
            Execute("DELETE FROM chunks WHERE upload NOT IN (SELECT upload FROM items)", schema);
            _lastUpload = Scalar("SELECT max(coalesce((SELECT max(upload) FROM chunks), 0), coalesce((SELECT max(upload) FROM items), 0))", schema);
            schema.Commit();
        }
    }

    public string Path { get; }

    /// <summary>Stores cut off by a crash of the last run (their chunks, deleted at start): how many, and their bytes.</summary>
    public (long Items, long Bytes) Discarded { get; }

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
            command.CommandText = "SELECT sequence, id, queue, client_ref, length, upload FROM items ORDER BY sequence";
            using SqliteDataReader reader = command.ExecuteReader();
            var rows = new List<ItemRow>();
            while (reader.Read())
            {
                rows.Add(new ItemRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.GetInt64(5)));
            }

            return rows;
        }
    }

    /// <summary>A number for the chunks of an item about to arrive, never used before in this database.</summary>
    public long NewUpload() => Interlocked.Increment(ref _lastUpload);

    /// <summary>Writes chunk <paramref name="ordinal"/> of <paramref name="upload"/>, in a transaction of its own (not yet durable: <see cref="AddItem"/> makes it so).</summary>
    public void WriteChunk(long upload, int ordinal, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            using SqliteTransaction transaction = _connection.BeginTransaction();
            using SqliteCommand insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO chunks (upload, ordinal, data) VALUES ($upload, $ordinal, zeroblob($length)); SELECT last_insert_rowid();";
            insert.Parameters.AddWithValue("$upload", upload);
            insert.Parameters.AddWithValue("$ordinal", ordinal);
            insert.Parameters.AddWithValue("$length", data.Length);
            long row = (long)insert.ExecuteScalar()!;
            using (var blob = new SqliteBlob(_connection, "chunks", "data", row))
            {
                blob.Write(data);
            }

            transaction.Commit();
        }
    }

    /// <summary>Makes the item whose chunks <paramref name="upload"/> wrote exist, durably (synchronous=FULL for this commit); its sequence number.</summary>
    public long AddItem(string id, string queue, string clientRef, int length, long upload)
    {
        lock (_lock)
        {
            Execute("PRAGMA synchronous = FULL");
            try
            {
                using SqliteTransaction transaction = _connection.BeginTransaction();
                using SqliteCommand insert = _connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO items (id, queue, client_ref, length, upload) VALUES ($id, $queue, $ref, $length, $upload); SELECT last_insert_rowid();";
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$queue", queue);
                insert.Parameters.AddWithValue("$ref", clientRef);
                insert.Parameters.AddWithValue("$length", length);
                insert.Parameters.AddWithValue("$upload", upload);
                long sequence = (long)insert.ExecuteScalar()!;
                transaction.Commit();
                return sequence;
            }
            finally
            {
                Execute("PRAGMA synchronous = NORMAL");
            }
        }
    }

    /// <summary>The chunks of <paramref name="upload"/>, in order.</summary>
    public List<ChunkRow> ChunksOf(long upload)
    {
        lock (_lock)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT rowid, length(data) FROM chunks WHERE upload = $upload ORDER BY ordinal";
            command.Parameters.AddWithValue("$upload", upload);
            using SqliteDataReader reader = command.ExecuteReader();
            var chunks = new List<ChunkRow>();
            while (reader.Read())
            {
                chunks.Add(new ChunkRow(reader.GetInt64(0), reader.GetInt32(1)));
            }

            return chunks;
        }
    }

    /// <summary>Reads bytes of <paramref name="chunk"/> from <paramref name="offset"/> into <paramref name="buffer"/>; how many (the buffer's length, or what is left).</summary>
    public int ReadChunk(ChunkRow chunk, int offset, Span<byte> buffer)
    {
        int count = Math.Min(buffer.Length, chunk.Length - offset);
        lock (_lock)
        {
            using var blob = new SqliteBlob(_connection, "chunks", "data", chunk.RowId, readOnly: true);
            blob.Position = offset;
            blob.ReadExactly(buffer[..count]);
        }

        return count;
    }

    /// <summary>
    /// Removes an item and its chunks (confirmed by its client). Not waiting for the disk (synchronous=NORMAL): a power
    /// cut right after can bring the item back, which at-least-once allows; a killed process loses no commit.
    /// </summary>
    public void Delete(long sequence, long upload)
    {
        lock (_lock)
        {
            using SqliteTransaction transaction = _connection.BeginTransaction();
            using SqliteCommand delete = _connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM items WHERE sequence = $sequence; DELETE FROM chunks WHERE upload = $upload;";
            delete.Parameters.AddWithValue("$sequence", sequence);
            delete.Parameters.AddWithValue("$upload", upload);
            delete.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    /// <summary>Removes the chunks of a store that did not finish (its client went away, or sent what it had not announced).</summary>
    public void DiscardUpload(long upload)
    {
        lock (_lock)
        {
            using SqliteCommand delete = _connection.CreateCommand();
            delete.CommandText = "DELETE FROM chunks WHERE upload = $upload AND upload NOT IN (SELECT upload FROM items)";
            delete.Parameters.AddWithValue("$upload", upload);
            delete.ExecuteNonQuery();
        }
    }

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql, SqliteTransaction? transaction = null)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql, SqliteTransaction transaction)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
