using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MachTransport.Benchmarks;

// `server <service> <uds path>`: the server process the benchmarks start (Mach, Unix socket and TCP at once).
// Anything else: run the benchmarks (arguments go to BenchmarkDotNet, e.g. --filter '*').
if (args.Length == 3 && args[0] == "server")
{
    return await BenchmarkServer.RunAsync(args[1], args[2]);
}

// In process: the client side is measured here, the server is always a separate process.
IConfig config = DefaultConfig.Instance.AddJob(Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithWarmupCount(3)
    .WithIterationCount(15));
BenchmarkSwitcher.FromAssembly(typeof(HttpTransportBenchmarks).Assembly).Run(args, config);
return 0;
