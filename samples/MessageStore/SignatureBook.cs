using System.Globalization;
using System.Text;

namespace MessageStore;

/// <summary>
/// What the client keeps of an item it stores: the reference it sends with the item, the queue, the item's place in
/// the queue as this user's clients stored it (a sequence number), its SHA-256, and whether the store was confirmed.
/// </summary>
internal sealed record Signature(string Ref, string Queue, long Sequence, byte[] Sha256, bool Stored);

/// <summary>
/// The client's own record of what it stored, in a small file (0600: the user's private data) that survives a restart
/// of the client and is never sent anywhere. An entry is written before the item is sent (so a client that dies before
/// the server's reply still leaves its signature), marked stored on the reply, and removed once the item is retrieved
/// and confirmed. Each change locks the file, so clients of one user can share it.
/// </summary>
internal sealed class SignatureBook(string directory)
{
    /// <summary>The environment variable that moves the folder (tests use a temp folder).</summary>
    public const string DirectoryVariable = "MESSAGESTORE_STATE_DIR";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string Path { get; } = System.IO.Path.Combine(directory, "signatures");

    /// <summary>$MESSAGESTORE_STATE_DIR, or a folder in the user's state folder (XDG_STATE_HOME, ~/.local/state; Application Support on macOS).</summary>
    public static string DefaultDirectory
    {
        get
        {
            if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } chosen)
            {
                return chosen;
            }

            string state = Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } xdg ? xdg
                : OperatingSystem.IsLinux() ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state")
                : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            return System.IO.Path.Combine(state, "machtransport-messagestore");
        }
    }

    /// <summary>A new entry for an item about to be sent to <paramref name="queue"/>: its reference, the queue's next sequence number, not yet stored.</summary>
    public Signature Reserve(string queue, byte[] sha256)
    {
        Signature? reserved = null;
        Update(book =>
        {
            long sequence = book.Next.GetValueOrDefault(queue, 1);
            book.Next[queue] = sequence + 1;
            reserved = new Signature(Guid.NewGuid().ToString("N"), queue, sequence, sha256, Stored: false);
            book.Entries[reserved.Ref] = reserved;
        });
        return reserved!;
    }

    /// <summary>The server has the item.</summary>
    public void MarkStored(string reference) => Update(book =>
    {
        if (book.Entries.TryGetValue(reference, out Signature? entry))
        {
            book.Entries[reference] = entry with { Stored = true };
        }
    });

    /// <summary>The signature kept for <paramref name="reference"/>; null if none was kept.</summary>
    public Signature? Find(string reference)
    {
        Signature? found = null;
        Update(book => book.Entries.TryGetValue(reference, out found));
        return found;
    }

    /// <summary>Stored items of <paramref name="queue"/> that came before <paramref name="sequence"/> and have not come back: missing, or overtaken.</summary>
    public IReadOnlyList<Signature> Earlier(string queue, long sequence)
    {
        List<Signature> earlier = [];
        Update(book => earlier.AddRange(book.Entries.Values.Where(e => e.Stored && e.Queue == queue && e.Sequence < sequence).OrderBy(e => e.Sequence)));
        return earlier;
    }

    /// <summary>Forgets <paramref name="reference"/>: its item is out of the store (or never got there), it cannot come back.</summary>
    public void Forget(string reference) => Update(book => book.Entries.Remove(reference));

    private void Update(Action<Book> change)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        using FileStream file = OpenExclusive();
        var book = new Book();
        using (var reader = new StreamReader(file, leaveOpen: true))
        {
            while (reader.ReadLine() is string line)
            {
                book.Read(line);
            }
        }

        change(book);
        file.SetLength(0);
        using var writer = new StreamWriter(file);
        book.Write(writer);
    }

    private FileStream OpenExclusive()
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        // FileShare.None is an exclusive lock on the file: another client of the same user may hold it for a moment.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var file = new FileStream(Path, options);
                if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(file.SafeFileHandle) != OwnerOnly)
                {
                    File.SetUnixFileMode(file.SafeFileHandle, OwnerOnly); // a book from before, or made by hand
                }

                return file;
            }
            catch (IOException) when (attempt < 500)
            {
                Thread.Sleep(10);
            }
        }
    }

    /// <summary>
    /// The file's lines: "item REF SEQUENCE STORED(0|1) SHA256 QUEUE" and "next QUEUE SEQUENCE", the queue in base64 (it
    /// may hold spaces). Lines of another form (an older book) are dropped.
    /// </summary>
    private sealed class Book
    {
        public Dictionary<string, Signature> Entries { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Next { get; } = new(StringComparer.Ordinal);

        public void Read(string line)
        {
            try
            {
                switch (line.Split(' '))
                {
                    case ["item", string reference, string sequence, string stored, string hex, string queue]:
                        Entries[reference] = new Signature(reference, Decode(queue), long.Parse(sequence, CultureInfo.InvariantCulture), Convert.FromHexString(hex), stored == "1");
                        break;
                    case ["next", string queue, string sequence]:
                        Next[Decode(queue)] = long.Parse(sequence, CultureInfo.InvariantCulture);
                        break;
                }
            }
            catch (FormatException)
            {
                // A damaged line: its item will come back as not ours, which is what can be said of it.
            }
        }

        public void Write(StreamWriter writer)
        {
            foreach ((string queue, long sequence) in Next)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"next {Encode(queue)} {sequence}"));
            }

            foreach (Signature e in Entries.Values)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"item {e.Ref} {e.Sequence} {(e.Stored ? 1 : 0)} {Convert.ToHexString(e.Sha256)} {Encode(e.Queue)}"));
            }
        }

        private static string Encode(string queue) => Convert.ToBase64String(Encoding.UTF8.GetBytes(queue));

        private static string Decode(string queue) => Encoding.UTF8.GetString(Convert.FromBase64String(queue));
    }
}
