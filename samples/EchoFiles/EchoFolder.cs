using System.Globalization;
using Microsoft.Extensions.Logging;

namespace EchoFiles;

/// <summary>
/// The data folder: one file per client process, named after its pid, holding the last message it sent; the same
/// message again deletes the file.
/// </summary>
internal sealed partial class EchoFolder
{
    // Held for a small file operation only, never while waiting on a client, so no client can hold up another.
    private readonly Lock _lock = new();
    private readonly ILogger<EchoFolder> _logger;

    public EchoFolder(string directory, ILogger<EchoFolder> logger)
    {
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
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

    /// <summary>Writes <paramref name="data"/> to the file of <paramref name="pid"/>, or deletes the file if it already holds exactly that.</summary>
    public void Record(int pid, ReadOnlySpan<byte> data)
    {
        string path = PathFor(pid);
        lock (_lock)
        {
            if (File.Exists(path) && data.SequenceEqual(File.ReadAllBytes(path)))
            {
                File.Delete(path);
                LogDeleted(pid, path);
            }
            else
            {
                File.WriteAllBytes(path, data);
                LogWritten(pid, data.Length, path);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: wrote {Bytes} bytes to {Path}")]
    private partial void LogWritten(int pid, int bytes, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: sent the same data again, deleted {Path}")]
    private partial void LogDeleted(int pid, string path);
}
