using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using MessageStore.Protos;
using Microsoft.Extensions.Logging;

namespace MessageStore;

/// <summary>What a retrieval found.</summary>
internal enum Verdict
{
    Verified,
    Tampered,
    Unverified,
    Empty,
    Failed,
}

/// <summary>
/// The client part: stores items in one queue and retrieves them, checking each retrieved item against the SHA-256
/// signature it kept when it stored it. Says how each command went on stdout, and logs it.
/// </summary>
internal sealed partial class StoreClient(ItemStore.ItemStoreClient client, string queue, SignatureBook signatures, ILogger<StoreClient> logger)
{
    private const string Commands = "commands: send [TEXT | @FILE], retrieve [FILE], quit";

    private static int Pid => Environment.ProcessId;

    /// <summary>The channel options a client needs: replies as large as the largest item.</summary>
    public static Grpc.Net.Client.GrpcChannelOptions ChannelOptions(ILoggerFactory loggerFactory) =>
        new() { MaxReceiveMessageSize = ItemStoreService.MaxItemBytes + ItemStoreService.MaxRequestOverhead, LoggerFactory = loggerFactory };

    public async Task<bool> SendAsync(byte[] data)
    {
        if (data.Length > ItemStoreService.MaxItemBytes)
        {
            Console.WriteLine($"refused: an item may have at most {ItemStoreService.MaxItemBytes} bytes (64 MiB); this one has {data.Length}");
            return false;
        }

        // The signature is kept before the item leaves: if this client dies before the reply, the item can still be
        // told from a stranger's when it comes back.
        Signature kept = signatures.Reserve(queue, SHA256.HashData(data));
        try
        {
            StoreReply reply = await client.StoreAsync(new StoreRequest { Queue = queue, Data = ByteString.CopyFrom(data), ClientRef = kept.Ref }, deadline: Deadline);
            signatures.MarkStored(kept.Ref);
            LogStored(Pid, reply.Id, data.Length, queue);
            Console.WriteLine($"stored item {reply.Id} ({data.Length} bytes)");
            return true;
        }
        catch (RpcException e)
        {
            // Refused, or failed: the server does not have it (or, after a lost reply, has it and it comes back as ours, unconfirmed).
            if (e.StatusCode is StatusCode.ResourceExhausted or StatusCode.InvalidArgument)
            {
                signatures.Forget(kept.Ref);
            }

            Failed("store", e);
            return false;
        }
    }

    /// <summary>
    /// Takes the oldest item of the queue and checks it against the signature kept for it; a verified or unverified item
    /// is printed when it is short text and <paramref name="outFile"/> is null, else written to <paramref name="outFile"/>
    /// (or to the file the user names when asked through <paramref name="ask"/>, or to <see cref="ItemOutput.DefaultFile"/>),
    /// and only then confirmed, so that the store lets it go. A tampered item is neither written nor confirmed.
    /// </summary>
    public async Task<Verdict> RetrieveAsync(string? outFile = null, TextReader? ask = null)
    {
        RetrieveReply reply;
        try
        {
            reply = await client.RetrieveAsync(new RetrieveRequest { Queue = queue }, deadline: Deadline);
        }
        catch (RpcException e)
        {
            Failed("retrieve", e);
            return Verdict.Failed;
        }

        if (reply.Empty)
        {
            LogEmpty(Pid, queue);
            Console.WriteLine($"queue '{queue}' is empty");
            return Verdict.Empty;
        }

        Signature? kept = reply.ClientRef.Length > 0 ? signatures.Find(reply.ClientRef) : null;
        Verdict verdict = kept is null ? Verdict.Unverified
            : SHA256.HashData(reply.Data.Span).AsSpan().SequenceEqual(kept.Sha256) ? Verdict.Verified
            : Verdict.Tampered;
        LogRetrieved(Pid, reply.Id, reply.Data.Length, queue, verdict);
        string said = verdict switch
        {
            Verdict.Verified when !kept!.Stored => $"item {reply.Id} ({reply.Data.Length} bytes): verified; stored by a client that died before it confirmed the store",
            Verdict.Verified => $"item {reply.Id} ({reply.Data.Length} bytes): verified",
            Verdict.Tampered => $"item {reply.Id} ({reply.Data.Length} bytes): tampered (its SHA-256 is not the one kept when it was stored); not written anywhere, not confirmed: the store keeps it",
            _ => $"item {reply.Id} ({reply.Data.Length} bytes): not ours (no signature kept for it here: stored by someone else, or forged)",
        };
        if (kept is not null && signatures.Earlier(kept.Queue, kept.Sequence) is { Count: > 0 } earlier)
        {
            Console.WriteLine($"note: {earlier.Count} item(s) stored here in queue '{queue}' before this one (number {string.Join(", ", earlier.Select(e => e.Sequence))}; this one is number {kept.Sequence}) have not come back: missing, or out of order");
        }

        if (verdict == Verdict.Tampered)
        {
            Console.WriteLine(said);
            return verdict;
        }

        if (outFile is null && ItemOutput.AsText(reply.Data.Span) is string text)
        {
            Console.WriteLine($"{said}, {ItemOutput.Printed(text)}");
        }
        else
        {
            Console.WriteLine(said);
            string path = outFile ?? await AskForFileAsync(reply.Id, ask);
            if (await ItemOutput.WriteAsync(path, reply.Data.Memory) is not string written)
            {
                Console.WriteLine("not confirmed: the store gives the item again to the next retrieve");
                return Verdict.Failed;
            }

            Console.WriteLine($"written to {written}");
        }

        // Only now that the user has it does the store let it go; until then a crash here leaves it in the store.
        return await ConfirmAsync(reply.Id, kept) ? verdict : Verdict.Failed;
    }

    private async Task<bool> ConfirmAsync(string id, Signature? kept)
    {
        try
        {
            await client.ConfirmAsync(new ConfirmRequest { Queue = queue, Id = id }, deadline: Deadline);
        }
        catch (RpcException e)
        {
            Failed("confirm", e);
            return false;
        }

        if (kept is not null)
        {
            signatures.Forget(kept.Ref); // used: the item is out of the store
        }

        LogConfirmed(Pid, id, queue);
        return true;
    }

    private static async Task<string> AskForFileAsync(string id, TextReader? ask)
    {
        string fallback = ItemOutput.DefaultFile(id);
        if (ask is null)
        {
            return fallback;
        }

        Console.Write($"not short text: file to write it to [{fallback}]: ");
        return (await ask.ReadLineAsync())?.Trim() is { Length: > 0 } named ? named : fallback;
    }

    /// <summary>The interactive prompt: one command per line until "quit" or the end of <paramref name="input"/>.</summary>
    public async Task PromptAsync(TextReader input)
    {
        Console.WriteLine($"queue '{queue}'; {Commands}");
        while (true)
        {
            Console.Write("> ");
            switch ((await input.ReadLineAsync())?.Trim())
            {
                case null or "quit":
                    return;
                case "":
                    break;
                case "retrieve":
                    await RetrieveAsync(ask: input);
                    break;
                case string command when command.StartsWith("retrieve ", StringComparison.Ordinal):
                    await RetrieveAsync(outFile: command["retrieve ".Length..].Trim());
                    break;
                case "send":
                    Console.Write("data: ");
                    if (await input.ReadLineAsync() is string text)
                    {
                        await SendAsync(Encoding.UTF8.GetBytes(text));
                    }

                    break;
                case string command when command.StartsWith("send ", StringComparison.Ordinal):
                    if (await ReadItemAsync(command["send ".Length..].Trim()) is byte[] data)
                    {
                        await SendAsync(data);
                    }

                    break;
                default:
                    Console.WriteLine(Commands);
                    break;
            }
        }
    }

    /// <summary>The bytes of <c>@FILE</c>, or the UTF-8 of the text; null (said on stdout) when the file cannot be read.</summary>
    public static async Task<byte[]?> ReadItemAsync(string argument)
    {
        if (!argument.StartsWith('@'))
        {
            return Encoding.UTF8.GetBytes(argument);
        }

        try
        {
            return await File.ReadAllBytesAsync(argument[1..]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine($"cannot read {argument[1..]}: {e.Message}");
            return null;
        }
    }

    // Generous: a 64 MiB item on a busy machine.
    private static DateTime Deadline => DateTime.UtcNow.AddMinutes(2);

    private void Failed(string action, RpcException e)
    {
        LogFailed(Pid, action, e.StatusCode, e.Status.Detail);
        Console.WriteLine(e.StatusCode is StatusCode.ResourceExhausted or StatusCode.InvalidArgument
            ? $"refused: {e.Status.Detail}"
            : $"{action} failed: {e.StatusCode}: {e.Status.Detail}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: stored item {Id} ({Bytes} bytes) in queue '{Queue}', its SHA-256 kept")]
    private partial void LogStored(int pid, string id, int bytes, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: retrieved item {Id} ({Bytes} bytes) from queue '{Queue}': {Verdict}")]
    private partial void LogRetrieved(int pid, string id, int bytes, string queue, Verdict verdict);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: confirmed item {Id} of queue '{Queue}': the store let it go, its signature forgotten")]
    private partial void LogConfirmed(int pid, string id, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: queue '{Queue}' is empty")]
    private partial void LogEmpty(int pid, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pid {Pid}: {Action} failed: {Status}: {Detail}")]
    private partial void LogFailed(int pid, string action, StatusCode status, string detail);
}
