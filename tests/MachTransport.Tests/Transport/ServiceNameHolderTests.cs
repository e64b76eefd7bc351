using MachTransport.Server;
using Xunit;

namespace MachTransport.Tests.Transport;

/// <summary>Reading the holder of a name's flock from /proc/locks lines (fs/locks.c, lock_get_status).</summary>
[Trait("Category", "Protocol")]
public sealed class ServiceNameHolderTests
{
    [Theory]
    [InlineData("1: FLOCK  ADVISORY  WRITE 4242 00:2d:1234 0 EOF", "00:2d:1234", 4242)]
    [InlineData("1: FLOCK  ADVISORY  WRITE 4242 103:02:99 0 EOF", "103:2:99", 4242)]
    public void AGrantedFlockOnTheFileNamesItsHolder(string line, string file, int pid)
        => Assert.Equal(pid, ServiceNameHolder.HolderIn(line, file));

    [Theory]
    [InlineData("1: FLOCK  ADVISORY  WRITE 4242 00:2d:1235 0 EOF")] // another file
    [InlineData("1: POSIX  ADVISORY  WRITE 4242 00:2d:1234 0 EOF")] // not a flock
    [InlineData("1: -> FLOCK  ADVISORY  WRITE 4243 00:2d:1234 0 EOF")] // a waiter
    [InlineData("1: FLOCK  ADVISORY  WRITE 0 00:2d:1234 0 EOF")] // a holder in another pid namespace
    [InlineData("garbage")]
    public void AnythingElseNamesNobody(string line)
        => Assert.Null(ServiceNameHolder.HolderIn(line, "00:2d:1234"));
}
