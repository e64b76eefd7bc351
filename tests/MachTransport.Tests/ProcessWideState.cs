using Xunit;

namespace MachTransport.Tests;

/// <summary>
/// Tests that observe state the whole process shares (its open descriptors, the emulation's pool of received regions)
/// run alone, so no parallel test changes what they look at.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideState
{
    public const string Name = "process-wide state";
}
