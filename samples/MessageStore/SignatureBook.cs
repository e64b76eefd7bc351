namespace MessageStore;

/// <summary>
/// The client's own record of what it stored: item id → SHA-256 of the item, in a small file that survives a restart
/// of the client and is never sent anywhere. Each change locks the file, so clients of one user can share it.
/// </summary>
internal sealed class SignatureBook(string directory)
{
    /// <summary>The environment variable that moves the folder (tests use a temp folder).</summary>
    public const string DirectoryVariable = "MESSAGESTORE_STATE_DIR";

    private readonly string _path = Path.Combine(directory, "signatures");

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
                : OperatingSystem.IsLinux() ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state")
                : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            return Path.Combine(state, "machtransport-messagestore");
        }
    }

    public void Keep(string id, byte[] signature) => Update(entries => entries[id] = Convert.ToHexString(signature));

    /// <summary>The signature kept for <paramref name="id"/>; null if none was kept.</summary>
    public byte[]? Find(string id)
    {
        string? hex = null;
        Update(entries => entries.TryGetValue(id, out hex));
        return hex is null ? null : Convert.FromHexString(hex);
    }

    /// <summary>Forgets the signature of <paramref name="id"/>: the item is out of the store, it cannot come back.</summary>
    public void Forget(string id) => Update(entries => entries.Remove(id));

    private void Update(Action<Dictionary<string, string>> change)
    {
        Directory.CreateDirectory(directory);
        using FileStream file = OpenExclusive();
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var reader = new StreamReader(file, leaveOpen: true))
        {
            while (reader.ReadLine() is string line)
            {
                if (line.Split(' ') is [string id, string hex])
                {
                    entries[id] = hex;
                }
            }
        }

        change(entries);
        file.SetLength(0);
        using var writer = new StreamWriter(file);
        foreach ((string id, string hex) in entries)
        {
            writer.WriteLine($"{id} {hex}");
        }
    }

    private FileStream OpenExclusive()
    {
        // FileShare.None is an exclusive lock on the file: another client of the same user may hold it for a moment.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 500)
            {
                Thread.Sleep(10);
            }
        }
    }
}
