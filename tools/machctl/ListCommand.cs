// "machctl list": the service names of the current user's namespace, the pid holding each and whether it is alive.
using System.CommandLine;
using System.Globalization;
using MachTransport.Tools.Registry;

namespace MachTransport.Tools;

internal static class ListCommand
{
    public static Command Create()
    {
        var command = new Command(
            "list",
            "List the Mach service names of this user's namespace, the pid holding each and whether it is alive (Linux: "
            + "the emulation's registry directory; the holder of a name's lock, from /proc/locks). launchd (macOS) offers "
            + "no public way to enumerate names: there the command says so and exits 1.");
        command.SetAction(_ => Run());
        return command;
    }

    private static int Run()
    {
        if (!OperatingSystem.IsLinux())
        {
            return ToolContext.Fail(
                "list is not available on this system: launchd has no public API that enumerates the names of a bootstrap "
                + "namespace. 'launchctl print gui/$(id -u)' shows the endpoints of the jobs launchd knows; names checked in "
                + "at run time are not listed there. Use 'machctl ping NAME' to check one name.");
        }

        IReadOnlyList<RegisteredName> names = LinuxRegistry.ReadNames();
        if (names.Count == 0)
        {
            Console.WriteLine($"No Mach service is registered in {LinuxRegistry.Directory}.");
            return ToolContext.Success;
        }

        int width = Math.Max("NAME".Length, names.Max(n => n.Name.Length));
        Console.WriteLine($"{"NAME".PadRight(width)}  {"PID",7}  STATE");
        foreach (RegisteredName name in names)
        {
            string pid = name.HolderPid is int holder and > 0 ? holder.ToString(CultureInfo.InvariantCulture) : name.IsAlive ? "?" : "-";
            Console.WriteLine($"{name.Name.PadRight(width)}  {pid,7}  {name.State}");
        }

        return ToolContext.Success;
    }
}
