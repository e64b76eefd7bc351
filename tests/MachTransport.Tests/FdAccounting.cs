using Xunit;

namespace MachTransport.Tests;

/// <summary>Tests that count this process's open descriptors run alone, so no parallel test moves the count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdAccounting
{
    public const string Name = "fd accounting";
}
