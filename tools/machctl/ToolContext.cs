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

    public static Option<double> Grace { get; } = new("--grace")
    {
        Description = "Seconds that open connections get to finish after Ctrl+C or SIGTERM before they are reset.",
        DefaultValueFactory = _ => 5,
        HelpName = "SECONDS",
    };

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

    /// <summary>Prints <paramref name="message"/> as machctl's error line and returns the failure exit code.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"machctl: {message}");
        return Failure;
    }

    public static TimeSpan Seconds(double seconds, string option)
        => seconds >= 0 && double.IsFinite(seconds) ? TimeSpan.FromSeconds(seconds) : throw new ArgumentOutOfRangeException(option, seconds, $"{option} must be a number of seconds, 0 or more.");
}
