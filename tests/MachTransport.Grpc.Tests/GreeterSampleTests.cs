using Xunit;

namespace MachTransport.Grpc.Tests;

/// <summary>The Greeter sample's demo, as the README runs it: client process, server child process, Mach between them.</summary>
[Trait("Category", "Grpc")]
[Trait("Category", "CrossProcess")]
public sealed class GreeterSampleTests
{
    [Fact]
    public async Task TheDemoCallsItsServerChildOverMachAndExits0()
    {
        string service = TestEnvironment.UniqueServiceName("greeter");

        await using ChildProcess demo = ChildProcess.Start("Greeter", "demo", service);
        (string output, string error) = await demo.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(demo.ExitCode == 0, $"exit {demo.ExitCode}\n{output}\n{error}");
        Assert.Contains($"listens on Mach service {service}", output, StringComparison.Ordinal);
        Assert.Contains("SayHello: Hello Mach\n", output, StringComparison.Ordinal);
        Assert.Contains("SayHellos: Hello Mach #1\nSayHellos: Hello Mach #2\nSayHellos: Hello Mach #3\nstatus: OK\n", output, StringComparison.Ordinal);
        Assert.Contains("server stopped (exit code 0)", output, StringComparison.Ordinal);
    }
}
