using System.Globalization;

namespace MessageStore;

/// <summary>
/// Where a retrieved item's bytes go as they arrive. While they could still be short text to print (no file asked
/// for, at most <see cref="ItemOutput.MaxPrintedBytes"/>) they stay in memory; past that, or when a file was asked for,
/// they go to a temporary file beside it (or beside <see cref="ItemOutput.DefaultFile"/>), which <see cref="KeepAsAsync"/>
/// renames to the file the user wants once the item is verified. The client never holds more than a short item.
/// Disposed without being kept (a tampered item, a failure), the temporary file is deleted; a client killed meanwhile
/// leaves it, named <c>FILE.PID.partial</c>, never a file that looks complete.
/// </summary>
internal sealed class ItemSink(string? outFile, string id) : IAsyncDisposable
{
    private readonly MemoryStream _small = new();
    private FileStream? _file;
    private string? _temporary;

    /// <summary>The temporary file the bytes are written to, or null while they are in memory.</summary>
    public string? TemporaryFile => _temporary;

    /// <summary>The item as text to print: short, valid UTF-8 text, and no file asked for; else null.</summary>
    public string? Text => _file is null && outFile is null ? ItemOutput.AsText(_small.GetBuffer().AsSpan(0, (int)_small.Length)) : null;

    /// <summary>Appends the next bytes of the item.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> data)
    {
        if (_file is null && outFile is null && _small.Length + data.Length <= ItemOutput.MaxPrintedBytes)
        {
            _small.Write(data.Span);
            return;
        }

        _file ??= await SpillAsync(outFile ?? ItemOutput.DefaultFile(id));
        await _file.WriteAsync(data);
    }

    /// <summary>Puts the whole item at <paramref name="path"/> (flushed to disk, then renamed into place); the full path, or null (said on stdout).</summary>
    public async Task<string?> KeepAsAsync(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            _file ??= await SpillAsync(full);
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync();
            _file = null;
            File.Move(_temporary!, full, overwrite: true);
            _temporary = null;
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine($"cannot write {full}: {e.Message}");
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync();
        }

        if (_temporary is not null)
        {
            try
            {
                File.Delete(_temporary);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nothing more can be done about it: the error that got here was said already.
            }
        }

        await _small.DisposeAsync();
    }

    // The bytes so far (in memory) go to a temporary file beside where the item is meant to end up.
    private async Task<FileStream> SpillAsync(string target)
    {
        _temporary = $"{Path.GetFullPath(target)}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.partial";
        var file = new FileStream(_temporary, FileMode.Create, FileAccess.Write, FileShare.None);
        await file.WriteAsync(_small.GetBuffer().AsMemory(0, (int)_small.Length));
        _small.SetLength(0);
        return file;
    }
}
