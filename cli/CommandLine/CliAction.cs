using System.CommandLine;

namespace Kfci.Cli.CommandLine;

/// <summary>Exit codes every kfci command uses.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The thing checked or run failed (a test run's FAILURE, an unhealthy stack).</summary>
    public const int Failure = 1;

    /// <summary>kfci itself could not do what was asked (bad input, missing file, unreachable service).</summary>
    public const int Error = 2;
}

/// <summary>An error whose message is already the one line the user should read.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>Runs a command body so that any error becomes one clear line on stderr and a non-zero exit.</summary>
public static class CliAction
{
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(body);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await body(parse, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("kfci: cancelled");
                return ExitCodes.Error;
            }
            catch (Exception e) when (e is CliException or IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException or HttpRequestException or Kfci.Http.ApiException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"kfci: {OneLine(e.Message)}");
                return ExitCodes.Error;
            }
        });
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
