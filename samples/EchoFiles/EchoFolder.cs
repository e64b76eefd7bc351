using System.Globalization;
using Microsoft.Extensions.Logging;

namespace EchoFiles;

/// <summary>
/// The data folder: one file per client process, named after its pid, holding the last message it sent; the same
/// message again, from the same process, deletes the file. Which process wrote a file is kept beside it, in
/// <c>.owners/PID</c> (the start time of that process): a later process that got the same pid does not delete the
/// earlier one's file; its first message moves that file aside, to <c>PID~START</c>, and starts its own.
/// </summary>
internal sealed partial class EchoFolder
{
    // Held for a small file operation only, never while waiting on a client, so no client can hold up another.
    private readonly Lock _lock = new();
    private readonly ILogger<EchoFolder> _logger;
    private readonly string _owners;

    public EchoFolder(string directory, ILogger<EchoFolder> logger)
    {
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
        _owners = System.IO.Directory.CreateDirectory(Path.Combine(Directory, ".owners")).FullName;
        _logger = logger;
    }

    public string Directory { get; }

    /// <summary>A <c>machtransport-echo</c> folder in the user's documents folder (the home folder, or the temp folder, if there is none).</summary>
    public static string DefaultDirectory
    {
        get
        {
            string documents = Environment.GetFolderPath(Environment.SpecialFolder.MyDocuments);
            if (documents.Length == 0)
            {
                documents = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            }

            return Path.Combine(documents.Length == 0 ? Path.GetTempPath() : documents, "machtransport-echo");
        }
    }

    public string PathFor(int pid) => Path.Combine(Directory, pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes <paramref name="data"/> to the file of <paramref name="client"/>, or deletes the file if that same process wrote exactly that.</summary>
    public void Record(ClientProcess client, ReadOnlySpan<byte> data)
    {
        string path = PathFor(client.Pid);
        string owner = Path.Combine(_owners, client.Pid.ToString(CultureInfo.InvariantCulture));
        string start = client.StartTime?.ToString(CultureInfo.InvariantCulture) ?? "unknown";
        lock (_lock)
        {
            if (File.Exists(path))
            {
                string? writer = File.Exists(owner) ? File.ReadAllText(owner) : null;
                if (writer != start)
                {
                    // Another process had this pid: its file is its own, kept under a name of its own.
                    string aside = $"{path}~{writer ?? "unknown"}";
                    File.Move(path, aside, overwrite: true);
                    LogReused(client.Pid, writer ?? "unknown", start, aside);
                }
                else if (data.SequenceEqual(File.ReadAllBytes(path)))
                {
                    File.Delete(path);
                    File.Delete(owner);
                    LogDeleted(client.Pid, path);
                    return;
                }
            }

            File.WriteAllText(owner, start);
            File.WriteAllBytes(path, data);
            LogWritten(client.Pid, data.Length, path);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: wrote {Bytes} bytes to {Path}")]
    private partial void LogWritten(int pid, int bytes, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: sent the same data again, deleted {Path}")]
    private partial void LogDeleted(int pid, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid} reused: its file was written by the process started at {Before}, this one started at {Now}; moved that file to {Aside}")]
    private partial void LogReused(int pid, string before, string now, string aside);
}
