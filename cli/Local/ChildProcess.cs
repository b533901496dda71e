using System.Diagnostics;

namespace Kfci.Cli.Local;

/// <summary>Runs a short-lived program to completion and returns its exit code and output (stdout then stderr).</summary>
public static class ChildProcess
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string command, IEnumerable<string> arguments, string workingDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(command)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {command}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Runs git in <paramref name="directory"/> and returns its trimmed stdout+stderr; a failure throws with git's message.</summary>
    public static async Task<string> GitAsync(string directory, CancellationToken cancellationToken, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync("git", ["-C", directory, .. arguments], directory, cancellationToken);
        return exitCode == 0
            ? output.Trim()
            : throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed in {directory}: {output.Trim().ReplaceLineEndings(" ")}");
    }

    /// <summary>Like <see cref="GitAsync"/> but null instead of an exception when git fails.</summary>
    public static async Task<string?> TryGitAsync(string directory, CancellationToken cancellationToken, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync("git", ["-C", directory, .. arguments], directory, cancellationToken);
        return exitCode == 0 ? output.Trim() : null;
    }
}
