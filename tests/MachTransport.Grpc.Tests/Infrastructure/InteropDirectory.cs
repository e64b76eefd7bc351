using Xunit;

namespace MachTransport.Grpc.Tests.Infrastructure;

/// <summary>tests/interop of the repository, with the grpc-js packages `npm ci` installs there.</summary>
internal static class InteropDirectory
{
    /// <summary>The directory; fails the test, with what to run, if node_modules is missing.</summary>
    public static string Get()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "interop");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                Assert.True(
                    Directory.Exists(Path.Combine(candidate, "node_modules", "@grpc", "grpc-js")),
                    $"@grpc/grpc-js is not installed: run `npm ci` in {candidate} (.ci/run does) before the Interop tests.");
                return candidate;
            }
        }

        Assert.Fail($"tests/interop/package.json not found above {AppContext.BaseDirectory}.");
        return string.Empty;
    }
}
