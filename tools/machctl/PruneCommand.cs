// "machctl prune": removes the files of stale names (their registrant exited) that the caller may remove.
using System.CommandLine;
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
        foreach (MachRegisteredService name in LinuxRegistry.ReadNames(unreadable))
        {
            // The registry checks again that nobody holds it, and that this process may remove it.
            if (name.HolderPid is null && MachServiceRegistry.RemoveIfStale(name))
            {
                Console.WriteLine($"removed {name.ServiceName} ({LinuxRegistry.DomainName(name.Domain)})");
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
