// The MessageStore sample: FIFO queues of items (up to 64 MiB each) over Mach; the client keeps a SHA-256 signature
// of every item it stores, on its own side only, and checks each item it retrieves against it.
//   MessageStore [demo]                       the server as a child process, and a scripted client against it
//   MessageStore serve [NAME]                 the server alone, until Ctrl+C or SIGTERM ("stop" on stdin too); caps: --max-queue-mib (256),
//                                             --max-queue-items (10000), --max-total-mib (1024); --lease-seconds (60):
//                                             how long a retrieved item waits for its confirmation;
//                                             --store-idle-seconds (30): how long a store may send nothing before it
//                                             is given up (its space freed); --data DIR: where
//                                             the items are kept (default $XDG_DATA_HOME or ~/.local/share, then
//                                             machtransport-messagestore)
//   MessageStore client                       a prompt: send [TEXT | @FILE], retrieve [FILE], quit
//   MessageStore client send [TEXT | @FILE]   stores one item (stdin when neither is given), sent in chunks of 1 MiB;
//                                             exit code 0 once stored
//   MessageStore client retrieve [--out FILE] takes the oldest item: short text printed, anything else (or every item,
//                                             with --out) written to FILE (default ./item-ID) as it comes, through
//                                             FILE.PID.partial; exit code 0 verified, 3 queue empty, 1 otherwise
// Each command that moves an item also prints how it travelled: Mach messages inline and out of line, each way.
// Options: --service NAME (default com.machtransport.messagestore), --queue NAME (default: the user name),
//          --state DIR (the client's signatures; default $MESSAGESTORE_STATE_DIR, else the user's state folder).
using Grpc.Net.Client;
using MachTransport.Grpc;
using MachTransport.Samples;
using MessageStore;
using MessageStore.Protos;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

if (SampleArguments.Parse(args, "--service", "--queue", "--state", "--out", "--max-queue-mib", "--max-total-mib", "--max-queue-items", "--lease-seconds", "--store-idle-seconds", "--data") is not SampleArguments arguments)
{
    return 2;
}

string service = arguments.Option("--service", "com.machtransport.messagestore");
string queue = arguments.Option("--queue", Environment.UserName);
switch (arguments.Mode)
{
    case "demo":
        return await StoreDemo.RunAsync(service, queue);
    case "serve":
        // "serve NAME" names the service as --service does; never ignored, refused when they disagree.
        return arguments.ServiceOfServer(service) is string served && StoreLimits.FromOptions(arguments.OptionOrNull) is StoreLimits limits
            ? await ServeAsync(served, limits, arguments.Option("--data", ItemDatabase.DefaultDirectory))
            : 2;
    case "client":
        using (ILoggerFactory loggers = LoggerFactory.Create(SampleLogging.Configure))
        using (GrpcChannel channel = MachGrpcChannel.ForService(service, StoreClient.ChannelOptions(loggers)))
        {
            var signatures = new SignatureBook(arguments.Option("--state", SignatureBook.DefaultDirectory));
            var client = new StoreClient(new ItemStore.ItemStoreClient(channel), queue, signatures, loggers.CreateLogger<StoreClient>());
            switch (arguments.Values)
            {
                case []:
                    await client.PromptAsync(Console.In);
                    return 0;
                case ["send"]:
                    return await client.SendAsync(await ReadStdinAsync()) ? 0 : 1;
                case ["send", string argument]:
                    if (StoreClient.OpenItem(argument) is not Stream item)
                    {
                        return 1;
                    }

                    await using (item)
                    {
                        return await client.SendAsync(item) ? 0 : 1;
                    }
                case ["retrieve"]:
                    return await client.RetrieveAsync(arguments.Option("--out", "") is { Length: > 0 } file ? file : null) switch { Verdict.Verified => 0, Verdict.Empty => 3, _ => 1 };
            }
        }

        break;
}

Console.Error.WriteLine("usage: MessageStore [demo | serve [NAME] [--max-queue-mib N] [--max-queue-items N] [--max-total-mib N] [--lease-seconds N] [--store-idle-seconds N] [--data DIR] | client [send [TEXT | @FILE] | retrieve [--out FILE]]] [--service NAME] [--queue NAME] [--state DIR]");
return 2;

// The server part: the ItemStore service on a Mach service, until Ctrl+C or SIGTERM (or "stop" on stdin).
static Task<int> ServeAsync(string serviceName, StoreLimits limits, string dataDirectory)
{
    WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
    SampleLogging.Configure(builder.Logging);

    // What a Kestrel app needs to serve on Mach: the transport, and a Mach service to listen on; the store watches its
    // connections end, to return the items they had not confirmed.
    builder.WebHost.UseMachTransport();
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(serviceName, listen => listen.Use(StoreServer.ReturnLeasesWhenConnectionsEnd(listen))));

    StoreServer.AddItemStore(builder, limits, dataDirectory);
    WebApplication app = builder.Build();
    StoreServer.MapItemStore(app);
    return SampleServerHost.RunAsync(app);
}

// Stdin cannot be read twice (once to sign, once to send) as a file can: it is kept in memory, up to one byte past
// the largest item (enough for the client to refuse it).
static async Task<MemoryStream> ReadStdinAsync()
{
    var buffer = new MemoryStream();
    using Stream stdin = Console.OpenStandardInput();
    byte[] chunk = new byte[64 * 1024];
    for (int read; buffer.Length <= ItemStoreService.MaxItemBytes && (read = await stdin.ReadAsync(chunk)) > 0;)
    {
        buffer.Write(chunk, 0, read);
    }

    buffer.Position = 0;
    return buffer;
}
