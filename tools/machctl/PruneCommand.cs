// "machctl prune": removes the files of stale names (their registrant exited) that the caller may remove.
using System.CommandLine;
using MachTransport.Mach.Linux;
using MachTransport.Tools.Registry;

namespace MachTransport.Tools;

internal static class PruneCommand
{
    public static Command Create()
    {
        var command = new Command(
            "prune",
            "Remove the files of the stale names 'machctl list' shows (their process exited) in this user's domain, and in "
            + "the system domain when run as root. A name is removed only while its lock is free and nobody listens on it, "
            + "so a live or newly registered name is never touched. Prints each name removed. Linux only.");
        command.SetAction(_ => Run());
        return command;
    }

    private static int Run()
    {
        if (!OperatingSystem.IsLinux())
        {
            return ToolContext.Fail("prune is not available on this system: launchd removes the names of exited processes itself.");
        }

        var unreadable = new List<string>();
        int removed = 0;
        foreach (RegisteredName name in LinuxRegistry.ReadNames(unreadable))
        {
            bool mayRemove = name.Domain == LinuxRegistry.DomainName(BootstrapDomain.User) || BootstrapDomain.System.MayRegister;
            if (!name.IsAlive && mayRemove && LinuxBootstrap.RemoveIfStale(name.BasePath))
            {
                Console.WriteLine($"removed {name.Name} ({name.Domain})");
                removed++;
            }
        }

        Console.WriteLine($"{removed} stale name{(removed == 1 ? string.Empty : "s")} removed.");
        foreach (string problem in unreadable)
        {
            _ = ToolContext.Fail(problem);
        }

        return unreadable.Count == 0 ? ToolContext.Success : ToolContext.Failure;
    }
}
