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
/// signature it kept when it stored it. Items travel in chunks of <see cref="ItemStoreService.ChunkBytes"/> both ways:
/// an item is read from its file, hashed and sent a chunk at a time, and a retrieved one is hashed and written to its
/// file as its chunks come. Says how each command went on stdout (and how the item travelled over Mach), and logs it.
/// </summary>
internal sealed partial class StoreClient(ItemStore.ItemStoreClient client, string queue, SignatureBook signatures, ILogger<StoreClient> logger)
{
    private const string Commands = "commands: send [TEXT | @FILE], retrieve [FILE], quit";

    // The transport's counts for this whole process, read before and after each command.
    private static readonly TransportTraffic Traffic = new();

    private readonly byte[] _chunk = new byte[ItemStoreService.ChunkBytes];

    private static int Pid => Environment.ProcessId;

    /// <summary>The channel options a client needs: replies of a chunk and their framing.</summary>
    public static Grpc.Net.Client.GrpcChannelOptions ChannelOptions(ILoggerFactory loggerFactory) =>
        new() { MaxReceiveMessageSize = ItemStoreService.ChunkBytes + ItemStoreService.MaxMessageOverhead, LoggerFactory = loggerFactory };

    public Task<bool> SendAsync(byte[] data) => SendAsync(new MemoryStream(data, writable: false));

    /// <summary>Stores the bytes of <paramref name="item"/> (a file, or bytes in memory: a stream that can seek).</summary>
    public async Task<bool> SendAsync(Stream item)
    {
        long length = item.Length;
        if (length > ItemStoreService.MaxItemBytes)
        {
            Console.WriteLine($"refused: an item may have at most {ItemStoreService.MaxItemBytes} bytes (64 MiB); this one has {length}");
            return false;
        }

        // The signature is kept before the item leaves: if this client dies before the reply, the item can still be
        // told from a stranger's when it comes back. The item is read twice (here, and as it is sent), never whole.
        byte[] sha256 = await SHA256.HashDataAsync(item);
        item.Position = 0;
        Signature kept = signatures.Reserve(queue, sha256);
        TransportTraffic.Counts before = Traffic.Now;
        try
        {
            if (await SendChunksAsync(item, length, sha256, kept.Ref) is not StoreReply reply)
            {
                signatures.Forget(kept.Ref);
                Console.WriteLine("not stored: the item changed while it was sent (its length or SHA-256 is not the one kept before sending); the store dropped it");
                return false;
            }

            signatures.MarkStored(kept.Ref);
            LogStored(Pid, reply.Id, length, queue);
            Console.WriteLine($"stored item {reply.Id} ({length} bytes)");
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
        catch (IOException e)
        {
            // The file failed while it was read for sending: the call was cancelled, the store dropped what it got.
            signatures.Forget(kept.Ref);
            Console.WriteLine($"not stored: the item could not be read while it was sent: {e.Message}");
            return false;
        }
        finally
        {
            Console.WriteLine($"travelled {Traffic.Now - before}");
        }
    }

    // The item in chunks, hashed again as they go: null (the call cancelled, so the store drops what it got) when
    // what was sent is not what was signed.
    private async Task<StoreReply?> SendChunksAsync(Stream item, long length, byte[] sha256, string reference)
    {
        using AsyncClientStreamingCall<StoreRequest, StoreReply> call = client.Store(deadline: Deadline);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var request = new StoreRequest { Queue = queue, ClientRef = reference, Length = length };
        for (long sent = 0; ; request = new StoreRequest())
        {
            int read = await item.ReadAtLeastAsync(_chunk.AsMemory(0, (int)Math.Min(_chunk.Length, length - sent)), minimumBytes: (int)Math.Min(_chunk.Length, length - sent), throwOnEndOfStream: false);
            hash.AppendData(_chunk, 0, read);

            // gRPC has serialized the message by the time the write completes: the buffer is free again.
            request.Data = UnsafeByteOperations.UnsafeWrap(_chunk.AsMemory(0, read));
            try
            {
                await call.RequestStream.WriteAsync(request);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or RpcException)
            {
                return await call.ResponseAsync; // the server ended the call (a refusal): its status says why
            }

            sent += read;
            if (sent == length || read == 0)
            {
                if (sent != length || !hash.GetHashAndReset().AsSpan().SequenceEqual(sha256))
                {
                    return null;
                }

                break;
            }
        }

        try
        {
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or RpcException)
        {
            // The server ended the call first: its status, below, says why.
        }

        return await call.ResponseAsync;
    }

    /// <summary>
    /// Takes the oldest item of the queue, hashing it and putting it aside (<see cref="ItemSink"/>) as it comes, and
    /// checks it against the signature kept for it; a verified or unverified item is printed when it is short text and
    /// <paramref name="outFile"/> is null, else written to <paramref name="outFile"/> (or to the file the user names
    /// when asked through <paramref name="ask"/>, or to <see cref="ItemOutput.DefaultFile"/>), and only then confirmed,
    /// so that the store lets it go. A tampered item is neither written nor confirmed.
    /// </summary>
    public async Task<Verdict> RetrieveAsync(string? outFile = null, TextReader? ask = null)
    {
        TransportTraffic.Counts before = Traffic.Now;
        using AsyncServerStreamingCall<RetrieveReply> call = client.Retrieve(new RetrieveRequest { Queue = queue }, deadline: Deadline);
        RetrieveReply head;
        try
        {
            if (!await call.ResponseStream.MoveNext())
            {
                Console.WriteLine("retrieve failed: the store answered nothing");
                return Verdict.Failed;
            }

            head = call.ResponseStream.Current;
        }
        catch (RpcException e)
        {
            Failed("retrieve", e);
            return Verdict.Failed;
        }

        if (head.Empty)
        {
            LogEmpty(Pid, queue);
            Console.WriteLine($"queue '{queue}' is empty");
            return Verdict.Empty;
        }

        try
        {
            await using var sink = new ItemSink(outFile, head.Id);
            return await ReceiveAsync(call.ResponseStream, head, sink, outFile, ask);
        }
        finally
        {
            Console.WriteLine($"travelled {Traffic.Now - before}");
        }
    }

    private async Task<Verdict> ReceiveAsync(IAsyncStreamReader<RetrieveReply> chunks, RetrieveReply head, ItemSink sink, string? outFile, TextReader? ask)
    {
        string item = $"item {head.Id} ({head.Length} bytes)";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long received = 0;
        try
        {
            while (await chunks.MoveNext())
            {
                ByteString data = chunks.Current.Data;
                received += data.Length;
                if (received > head.Length)
                {
                    break;
                }

                hash.AppendData(data.Span);
                await sink.WriteAsync(data.Memory);
            }
        }
        catch (RpcException e)
        {
            Failed("retrieve", e);
            return Verdict.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine($"cannot write {sink.TemporaryFile}: {e.Message}");
            Console.WriteLine("not confirmed: the store gives the item again to the next retrieve");
            return Verdict.Failed;
        }

        if (received != head.Length)
        {
            Console.WriteLine($"retrieve failed: {item} came with {received} bytes; not confirmed: the store gives it again to the next retrieve");
            return Verdict.Failed;
        }

        Signature? kept = head.ClientRef.Length > 0 ? signatures.Find(head.ClientRef) : null;
        Verdict verdict = kept is null ? Verdict.Unverified
            : hash.GetHashAndReset().AsSpan().SequenceEqual(kept.Sha256) ? Verdict.Verified
            : Verdict.Tampered;
        LogRetrieved(Pid, head.Id, head.Length, queue, verdict);
        string said = verdict switch
        {
            Verdict.Verified when !kept!.Stored => $"{item}: verified; stored by a client that died before it confirmed the store",
            Verdict.Verified => $"{item}: verified",
            Verdict.Tampered => $"{item}: tampered (its SHA-256 is not the one kept when it was stored); not written anywhere, not confirmed: the store keeps it",
            _ => $"{item}: not ours (no signature kept for it here: stored by someone else, or forged)",
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

        if (sink.Text is string text)
        {
            Console.WriteLine($"{said}, {ItemOutput.Printed(text)}");
        }
        else
        {
            Console.WriteLine(said);
            string path = outFile ?? await AskForFileAsync(head.Id, ask);
            if (await sink.KeepAsAsync(path) is not string written)
            {
                Console.WriteLine("not confirmed: the store gives the item again to the next retrieve");
                return Verdict.Failed;
            }

            Console.WriteLine($"written to {written}");
        }

        // Only now that the user has it does the store let it go; until then a crash here leaves it in the store.
        return await ConfirmAsync(head.Id, kept) ? verdict : Verdict.Failed;
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
                    if (OpenItem(command["send ".Length..].Trim()) is Stream item)
                    {
                        await using (item)
                        {
                            await SendAsync(item);
                        }
                    }

                    break;
                default:
                    Console.WriteLine(Commands);
                    break;
            }
        }
    }

    /// <summary>The file of <c>@FILE</c>, opened, or the UTF-8 of the text; null (said on stdout) when the file cannot be read.</summary>
    public static Stream? OpenItem(string argument)
    {
        if (!argument.StartsWith('@'))
        {
            return new MemoryStream(Encoding.UTF8.GetBytes(argument), writable: false);
        }

        try
        {
            return new FileStream(argument[1..], FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
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
    private partial void LogStored(int pid, string id, long bytes, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: retrieved item {Id} ({Bytes} bytes) from queue '{Queue}': {Verdict}")]
    private partial void LogRetrieved(int pid, string id, long bytes, string queue, Verdict verdict);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: confirmed item {Id} of queue '{Queue}': the store let it go, its signature forgotten")]
    private partial void LogConfirmed(int pid, string id, string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "pid {Pid}: queue '{Queue}' is empty")]
    private partial void LogEmpty(int pid, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pid {Pid}: {Action} failed: {Status}: {Detail}")]
    private partial void LogFailed(int pid, string action, StatusCode status, string detail);
}
