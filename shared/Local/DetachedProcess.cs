using System.Diagnostics;

namespace Kfci.Local;

/// <summary>
/// Starts a process that may outlive its starter: its own session and process group (<c>setsid</c>),
/// output appended to a log file by the shell, stdin from /dev/null, so no pipe ties it to this process.
/// </summary>
public static class DetachedProcess
{
    /// <summary>Starts <paramref name="command"/> and returns the pid, which is also its process group id.</summary>
    public static int Start(string command, IEnumerable<string> arguments, string logFile, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        ArgumentNullException.ThrowIfNull(arguments);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        // "$@" keeps every argument intact; only the log path is interpolated, quoted.
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec \"$@\" >>{ShellQuote(logFile)} 2>&1 </dev/null");
        start.ArgumentList.Add("kfci-detached");
        start.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        return process.Id;
    }

    public static string ShellQuote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>The last lines of a log file, for error messages that say why a process died.</summary>
    public static string Tail(string logFile, int lines = 5) =>
        File.Exists(logFile) ? string.Join(" | ", File.ReadLines(logFile).TakeLast(lines)) : "(no log)";
}
