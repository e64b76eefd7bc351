// "machctl list": the service names of this user's domain and of the system domain, the pid holding each and whether it is alive.
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
            "List the Mach service names of this user's domain and of the system domain, the pid holding each and whether "
            + "it is alive (Linux: the emulation's registry directories; the holder of a name's lock, from /proc/locks). "
            + "A domain this user cannot read is named on stderr and the command exits 1 after listing the rest. launchd "
            + "(macOS) offers no public way to enumerate names: there the command says so and exits 1.");
        command.SetAction(_ => Run());
        return command;
    }

    private static int Run()
    {
        if (!OperatingSystem.IsLinux())
        {
            return ToolContext.Fail(
                "list is not available on this system: launchd has no public API that enumerates the names of a bootstrap "
                + "namespace. 'launchctl print gui/$(id -u)' (or 'launchctl print system') shows the endpoints of the jobs "
                + "launchd knows; names checked in at run time are not listed there. Use 'machctl ping NAME' to check one name.");
        }

        var unreadable = new List<string>();
        IReadOnlyList<MachRegisteredService> names = LinuxRegistry.ReadNames(unreadable);
        if (names.Count == 0)
        {
            Console.WriteLine($"No Mach service is registered in {string.Join(" or ", LinuxRegistry.Domains.Select(MachServiceRegistry.GetDirectory))}.");
        }
        else
        {
            int width = Math.Max("NAME".Length, names.Max(n => n.ServiceName.Length));
            Console.WriteLine($"{"NAME".PadRight(width)}  DOMAIN  {"PID",7}  STATE");
            foreach (MachRegisteredService name in names)
            {
                string pid = name.HolderPid is int holder ? holder > 0 ? holder.ToString(CultureInfo.InvariantCulture) : "?" : "-";
                Console.WriteLine($"{name.ServiceName.PadRight(width)}  {LinuxRegistry.DomainName(name.Domain),-6}  {pid,7}  {LinuxRegistry.State(name)}");
            }
        }

        foreach (string problem in unreadable)
        {
            _ = ToolContext.Fail(problem);
        }

        return unreadable.Count == 0 ? ToolContext.Success : ToolContext.Failure;
    }
}
