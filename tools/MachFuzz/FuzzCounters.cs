// What a fuzz run counts about its own sending (per worker, summed at the end).
namespace MachTransport.Fuzz;

internal sealed class FuzzCounters
{
    public long Sent { get; set; }

    /// <summary>Sends refused by the socket layer (the target port died: EPIPE, ECONNRESET), by errno.</summary>
    public Dictionary<int, long> Refused { get; } = [];

    public long Skipped { get; set; }

    public long Connections { get; set; }

    public long ConnectFailures { get; set; }

    public long Preambles { get; set; }

    public void Count(int error)
    {
        if (error == 0)
        {
            Sent++;
        }
        else
        {
            Refused[error] = Refused.GetValueOrDefault(error) + 1;
        }
    }

    public void Add(FuzzCounters other)
    {
        Sent += other.Sent;
        Skipped += other.Skipped;
        Connections += other.Connections;
        ConnectFailures += other.ConnectFailures;
        Preambles += other.Preambles;
        foreach ((int error, long count) in other.Refused)
        {
            Refused[error] = Refused.GetValueOrDefault(error) + count;
        }
    }
}
