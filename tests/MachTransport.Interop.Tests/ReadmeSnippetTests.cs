// Issue 18 item 1: every C# snippet of README.md compiles as shown, against the packed packages, so the README cannot
// drift from the public API again. Each snippet becomes a method of its own (its using directives hoisted, the types it
// declares after its statements kept beside the method) in one throwaway `dotnet new web`-like project.
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace MachTransport.Interop.Tests;

[Trait("Category", "Packaging")]
public sealed partial class ReadmeSnippetTests
{
    [Fact]
    public void TheReadmeHasTheSnippetsThisTestBuilds()
    {
        string[] snippets = Snippets(File.ReadAllText(ReadmePath()));

        Assert.True(snippets.Length >= 6, $"found {snippets.Length} C# snippets in README.md");
        Assert.All(snippets, snippet => Assert.Contains("Mach", snippet, StringComparison.Ordinal)); // each shows the library in use
    }

    [Fact]
    public async Task EveryReadmeSnippetBuildsAgainstThePackedPackages()
    {
        string packages = PackageTests.PackagesDirectory;
        string version = PackageTests.Element(PackageTests.Nuspec("MachTransport.Grpc"), "version").Value;
        string[] snippets = Snippets(File.ReadAllText(ReadmePath()));
        string project = Directory.CreateTempSubdirectory("machtransport-readme-").FullName;
        try
        {
            PackageTests.WriteNuGetConfig(project, packages);
            File.WriteAllText(Path.Combine(project, "Snippets.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk.Web">
                  <PropertyGroup>
                    <OutputType>Library</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <!-- Snippets without await still become async methods. -->
                    <NoWarn>$(NoWarn);CS1998</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="MachTransport.Grpc" Version="{version}" />
                    <PackageReference Include="Grpc.AspNetCore" Version="2.85.0" />
                    <Protobuf Include="greet.proto" GrpcServices="Both" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(project, "greet.proto"), """
                syntax = "proto3";
                package greet;
                service Greeter {
                  rpc SayHello (HelloRequest) returns (HelloReply);
                }
                message HelloRequest { string name = 1; }
                message HelloReply { string message = 1; }
                """);
            for (int i = 0; i < snippets.Length; i++)
            {
                File.WriteAllText(Path.Combine(project, $"Snippet{i + 1}.cs"), AsMethod(snippets[i], i + 1));
            }

            (int exitCode, string output) = await PackageTests.DotnetAsync(project, "build", "-c", "Release");

            Assert.True(exitCode == 0, $"README.md's C# snippets (Snippet<N> is the Nth) do not build:\n{output}");
        }
        finally
        {
            Directory.Delete(project, recursive: true);
        }
    }

    [Fact]
    public void ASnippetBecomesAMethodWithItsUsingsAndTypesOutside()
    {
        string file = AsMethod("using System.Net;\n\nvar x = HttpVersion.Version20;\n\nclass Helper\n{\n}\n", 3);

        Assert.StartsWith("using System.Net;\n", file, StringComparison.Ordinal);
        Assert.Contains("namespace ReadmeSnippets.Snippet3;", file, StringComparison.Ordinal);
        Assert.Contains("var x = HttpVersion.Version20;", file, StringComparison.Ordinal);
        Assert.True(file.IndexOf("class Helper", StringComparison.Ordinal) > file.LastIndexOf("RunAsync", StringComparison.Ordinal));
    }

    /// <summary>The ```csharp blocks of a markdown text.</summary>
    internal static string[] Snippets(string markdown)
        => [.. FencedCSharp().Matches(markdown).Select(m => m.Groups["code"].Value)];

    /// <summary>A snippet as a file: its usings, then a method with its statements, then the types it declares.</summary>
    internal static string AsMethod(string snippet, int number)
    {
        string[] lines = snippet.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var usings = lines.Where(l => UsingDirective().IsMatch(l)).ToList();
        var rest = lines.Where(l => !UsingDirective().IsMatch(l)).ToList();
        int types = rest.FindIndex(l => TypeDeclaration().IsMatch(l));
        List<string> statements = types < 0 ? rest : rest[..types];
        List<string> declarations = types < 0 ? [] : rest[types..];

        var file = new StringBuilder();
        usings.ForEach(u => file.Append(u).Append('\n'));
        file.Append($"\nnamespace ReadmeSnippets.Snippet{number};\n\ninternal static class Snippet\n{{\n    internal static async Task RunAsync(string[] args)\n    {{\n");
        statements.ForEach(s => file.Append("        ").Append(s).Append('\n'));
        file.Append("    }\n}\n\n");
        declarations.ForEach(d => file.Append(d).Append('\n'));
        return file.ToString();
    }

    private static string ReadmePath()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MachTransport.sln")))
            {
                return Path.Combine(directory.FullName, "README.md");
            }
        }

        throw new InvalidOperationException($"No MachTransport.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^```csharp\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedCSharp();

    /// <summary>A using directive (not a using declaration such as <c>using var x = ...</c>).</summary>
    [GeneratedRegex(@"^using (static )?[A-Za-z_][A-Za-z0-9_.]*( = [A-Za-z_][A-Za-z0-9_.<>]*)?;\s*$")]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"^(public |internal |sealed |static |abstract |partial )*(class|record|struct|interface|enum) ")]
    private static partial Regex TypeDeclaration();
}
