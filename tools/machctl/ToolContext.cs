// What every long-running command shares: stderr logging (Debug with --verbose), the shutdown signals and the error line format.
using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace MachTransport.Tools;

/// <summary>Options and helpers common to the commands.</summary>
internal static class ToolContext
{
    public const int Success = 0;
    public const int Failure = 1;

    public static Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log at Debug level (per-connection byte counts) on stderr.",
        Recursive = true,
    };

    public static Option<double> Grace { get; } = SecondsOption(
        "--grace", "Seconds that open connections get to finish after Ctrl+C or SIGTERM before they are reset.", 5);

    /// <summary>A duration option in seconds (fractions allowed); a negative or absurd value is a usage error.</summary>
    public static Option<double> SecondsOption(string name, string description, double defaultValue, params string[] aliases)
    {
        var option = new Option<double>(name, aliases) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "SECONDS" };
        option.Validators.Add(result =>
        {
            double seconds = result.GetValueOrDefault<double>();
            if (!(seconds >= 0 && seconds <= TimeSpan.FromDays(1).TotalSeconds))
            {
                result.AddError($"{name} must be a number of seconds from 0 to 86400, not {seconds}.");
            }
        });
        return option;
    }

    /// <summary>Logs go to stderr, one line each: stdout carries only the command's own output.</summary>
    public static ILoggerFactory CreateLoggerFactory(bool verbose) => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    });

    /// <summary>
    /// Prints why <paramref name="serviceName"/> is no Mach service name as machctl's error line, the sentence alone (the
    /// library's ArgumentException ends in "(Parameter 'serviceName')"); false when it is one.
    /// </summary>
    public static bool RejectServiceName(string serviceName)
    {
        if (MachEndPoint.IsValidServiceName(serviceName, out string? error))
        {
            return false;
        }

        _ = Fail(error);
        return true;
    }

    /// <summary>Prints <paramref name="message"/> as machctl's error line and returns the failure exit code.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"machctl: {message}");
        return Failure;
    }
}
