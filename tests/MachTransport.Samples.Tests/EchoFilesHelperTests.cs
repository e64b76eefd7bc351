using System.Globalization;
using MachTransport.Samples.Tests.Infrastructure;
using Xunit;

namespace MachTransport.Samples.Tests;

/// <summary>
/// EchoFiles as a privileged helper (issue 19): root's server in the system domain for the processes of user nobody,
/// called by a nobody process and by root's own.
/// </summary>
[Trait("Category", "Samples")]
[Trait("Category", "CrossUser")]
public sealed class EchoFilesHelperTests
{
    private const string Sample = "EchoFiles.dll";
    private const uint Nobody = 65534;

    [LinuxRootFact]
    public async Task ARootHelperServesNobodysClientAndRefusesRoots()
    {
        string service = TestEnvironment.UniqueServiceName("echofiles-helper");
        string directory = Directory.CreateTempSubdirectory("echofiles-helper-").FullName;
        try
        {
            await using SampleProcess server = await SampleProcess.StartServerAsync(Sample, "--service", service, "--dir", directory, "--helper-for", Nobody.ToString(CultureInfo.InvariantCulture));

            await using SampleProcess nobody = SampleProcess.StartAs(Nobody, Sample, "client", "--service", service, "from nobody");
            Assert.True(await nobody.WaitForExitAsync(TimeSpan.FromSeconds(90)) == 0, nobody.ToString());
            Assert.Contains("echo identical (11 bytes)", nobody.Output, StringComparison.Ordinal);
            Assert.Equal("from nobody", await File.ReadAllTextAsync(Path.Combine(directory, nobody.Id.ToString(CultureInfo.InvariantCulture))));

            await using SampleProcess root = SampleProcess.Start(Sample, "client", "--service", service, "from root");
            Assert.True(await root.WaitForExitAsync(TimeSpan.FromSeconds(90)) != 0, root.ToString());
            Assert.Contains("uid 0", root.Output + root.Error, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(directory, root.Id.ToString(CultureInfo.InvariantCulture))));

            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
