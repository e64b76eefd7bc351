// The packed packages, used as a consumer would: a throwaway project restores MachTransport.Grpc from the folder
// .ci/run packed into (plus the repository's usual sources for its dependencies) and makes a gRPC call over Mach.
using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Xunit;

namespace MachTransport.Interop.Tests;

[Trait("Category", "Packaging")]
public sealed class PackageTests
{
    /// <summary>Set by .ci/run to the folder it packed MachTransport, MachTransport.Grpc and machctl into.</summary>
    private const string PackagesVariable = "MACHTRANSPORT_PACKAGES";

    internal static string PackagesDirectory
    {
        get
        {
            string? directory = Environment.GetEnvironmentVariable(PackagesVariable);
            Assert.True(!string.IsNullOrEmpty(directory) && Directory.Exists(directory),
                $"{PackagesVariable} must name the folder the packages were packed into: run `bash .ci/run`, or `dotnet pack src/MachTransport -c Release -o DIR` (and src/MachTransport.Grpc, tools/machctl) and set {PackagesVariable}=DIR.");
            return directory;
        }
    }

    [Fact]
    public void TheGrpcPackageDependsOnTheTransportPackageAndTheToolIsATool()
    {
        XDocument grpc = Nuspec("MachTransport.Grpc");
        string version = Element(grpc, "version").Value;
        Assert.Contains(grpc.Descendants().Where(e => e.Name.LocalName == "dependency"),
            d => (string?)d.Attribute("id") == "MachTransport" && (string?)d.Attribute("version") == version);
        Assert.NotEmpty(Element(grpc, "description").Value);
        Assert.NotNull(Element(grpc, "repository").Attribute("commit")); // deterministic builds record their commit

        XDocument tool = Nuspec("MachTransport.Machctl");
        Assert.Contains(tool.Descendants().Where(e => e.Name.LocalName == "packageType"), p => (string?)p.Attribute("name") == "DotnetTool");
        Nuspec("MachTransport");
    }

    /// <summary>Issue 19 item 9: the tool package carried MachTransport.xml and both pdbs (symbols belong in a symbol package).</summary>
    [Fact]
    public void TheToolPackageCarriesNeitherXmlDocsNorPdbs()
    {
        using ZipArchive package = ZipFile.OpenRead(PackagePath("MachTransport.Machctl"));
        string[] files = [.. package.Entries.Select(e => e.FullName).Where(f => f.StartsWith("tools/", StringComparison.Ordinal))];

        Assert.Contains("tools/net10.0/any/machctl.dll", files);
        Assert.DoesNotContain(files, f => f.EndsWith(".pdb", StringComparison.Ordinal) || (f.EndsWith(".xml", StringComparison.Ordinal) && !f.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AThrowawayProjectMakesAGrpcCallOverMachWithThePackedPackage()
    {
        string packages = PackagesDirectory;
        string version = Element(Nuspec("MachTransport.Grpc"), "version").Value;
        string project = Directory.CreateTempSubdirectory("machtransport-consumer-").FullName;
        try
        {
            WriteConsumer(project, packages, version);
            string service = TestEnvironment.UniqueServiceName("package");
            (int exitCode, string output) = await DotnetAsync(project, "run", "-c", "Release", "--", service);
            Assert.True(exitCode == 0, output);
            Assert.Contains($"reply: hello from Mach peer pid {ConsumerPid(output)}", output);
        }
        finally
        {
            Directory.Delete(project, recursive: true);
        }
    }

    /// <summary>The consumer's own pid, which it prints: server and client are one process.</summary>
    private static string ConsumerPid(string output)
        => Assert.Single(output.Split('\n'), l => l.StartsWith("pid ", StringComparison.Ordinal))["pid ".Length..].Trim();

    internal static XDocument Nuspec(string id)
    {
        using ZipArchive package = ZipFile.OpenRead(PackagePath(id));
        using Stream nuspec = package.Entries.Single(e => e.FullName == $"{id}.nuspec").Open();
        return XDocument.Load(nuspec);
    }

    private static string PackagePath(string id)
        => Assert.Single(Directory.GetFiles(PackagesDirectory, $"{id}.*.nupkg"), p => !p.EndsWith(".snupkg", StringComparison.Ordinal)
            && char.IsDigit(Path.GetFileName(p)[id.Length + 1]));

    internal static XElement Element(XDocument nuspec, string name) => nuspec.Descendants().First(e => e.Name.LocalName == name);

    /// <summary>A nuget.config for a project outside the repository: MachTransport* from the packed folder, its own package cache.</summary>
    internal static void WriteNuGetConfig(string directory, string packages)
    {
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <!-- Its own cache: a package packed again with the same version must not come from an earlier run. -->
                <add key="globalPackagesFolder" value="{Path.Combine(directory, "packages")}" />
              </config>
              <packageSources>
                <clear />
                <add key="packed" value="{packages}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                <add key="machine-folder" value="/opt/nuget/packages" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="packed"><package pattern="MachTransport*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
                <packageSource key="machine-folder"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
    }

    /// <summary>A project outside the repository (none of its props apply), with its own package cache.</summary>
    private static void WriteConsumer(string directory, string packages, string version)
    {
        WriteNuGetConfig(directory, packages);
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="MachTransport.Grpc" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            // A server and a client in one process, on the packages alone: a hand-written unary method with a string
            // marshaller (no protoc), served over Mach by Kestrel and called through MachGrpcChannel.
            using System.Text;
            using Grpc.Core;
            using MachTransport.Grpc;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Hosting;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Logging;

            string service = args[0];
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseMachTransport();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenMach(service));
            builder.Services.AddGrpc();
            WebApplication app = builder.Build();
            app.MapGrpcService<Echo>();
            await app.StartAsync();

            using (var channel = MachGrpcChannel.ForService(service))
            {
                string reply = await channel.CreateCallInvoker().AsyncUnaryCall(Echo.SayMethod, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), "hello");
                Console.WriteLine($"pid {Environment.ProcessId}");
                Console.WriteLine($"reply: {reply}");
            }

            await app.StopAsync();

            [BindServiceMethod(typeof(Echo), nameof(Bind))]
            // Grpc.AspNetCore binds a method to a virtual of the type BindServiceMethod names, as generated bases have.
            public class Echo
            {
                private static readonly Marshaller<string> Text = Marshallers.Create(s => Encoding.UTF8.GetBytes(s), b => Encoding.UTF8.GetString(b));

                public static readonly Method<string, string> SayMethod = new(MethodType.Unary, "consumer.Echo", "Say", Text, Text);

                public static void Bind(ServiceBinderBase binder, Echo? service) => binder.AddMethod(SayMethod, (UnaryServerMethod<string, string>?)null);

                // The kernel's identity of the caller: only a Mach connection has one.
                public virtual Task<string> Say(string request, ServerCallContext context)
                    => Task.FromResult($"{request} from Mach peer pid {context.GetMachPeer()?.Pid}");
            }
            """);
    }

    internal static async Task<(int ExitCode, string Output)> DotnetAsync(string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output + await error);
    }
}
