using System.Globalization;
using Kfci.Cli.CommandLine;
using Kfci.Janitor;

namespace Kfci.Cli.Commands;

/// <summary>
/// Option values checked by the command body rather than the parser, so that bad input gets kfci's one-line error and
/// exit 2 instead of the parser's usage screen.
/// </summary>
internal static class CliInputs
{
    public static string Required(string? value, string usage) =>
        string.IsNullOrWhiteSpace(value) ? throw new CliException($"{usage} is required") : value;

    public static DateTimeOffset Now(string? now)
    {
        if (now is null)
        {
            return TimeProvider.System.GetUtcNow();
        }

        try
        {
            return Rfc3339.Parse(now);
        }
        catch (FormatException e)
        {
            throw new CliException($"--now: {e.Message}");
        }
    }

    public static int Int(string? value, string option, int defaultValue) =>
        value is null ? defaultValue
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number
        : throw new CliException($"{option} {value}: not a whole number");
}
