// Entry point. `server <id> <directory> [variant options]`: the server process the harness starts. Anything else:
// the harness (see Settings.Usage): servers up, interleaved rounds, report, servers down.
using MachTransport.Benchmarks;

if (args.Length >= 3 && args[0] == "server")
{
    return await BenchServer.RunAsync(new ServerAddresses(args[1], args[2]), Variant.Parse(args[3..]));
}

if (Settings.Parse(args) is not Settings settings)
{
    Console.Error.WriteLine(Settings.Usage);
    return 2;
}

// A private registry and socket directory for this run (0700, as the registry requires; the servers inherit the variable).
string directory = Directory.CreateTempSubdirectory("machtransport-bench-").FullName;
string registry = Directory.CreateTempSubdirectory("machtransport-bench-registry-").FullName;
Environment.SetEnvironmentVariable("MACHTRANSPORT_BOOTSTRAP_DIR", registry);
try
{
    return await Harness.RunAsync(settings, directory);
}
finally
{
    Directory.Delete(directory, recursive: true);
    Directory.Delete(registry, recursive: true);
}
