using System.Diagnostics;
using System.Text;

namespace Kfci.Sources;

/// <summary>What one <c>git</c> invocation produced.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="Stdout">Standard output, raw bytes (blobs and <c>-z</c> lists are not text to be re-encoded).</param>
/// <param name="Stderr">Standard error folded onto one line.</param>
internal sealed record GitResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;

    public string Text => Encoding.UTF8.GetString(Stdout).Trim();
}

/// <summary>A <c>git</c> command failed in a way kfci does not interpret (corrupt repository, git missing...).</summary>
public sealed class GitCommandException : Exception
{
    public GitCommandException()
    {
    }

    public GitCommandException(string message)
        : base(message)
    {
    }

    public GitCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Runs real <c>git</c>: arguments passed as a list (never through a shell), a timeout per call, standard output
/// bounded, standard error captured for one-line errors. Git never prompts: a fetch that needs credentials fails.
/// </summary>
internal static class GitProcess
{
    public static async Task<GitResult> RunAsync(
        string workingDirectory, IReadOnlyList<string> arguments, TimeSpan timeout, long maxStdoutBytes, CancellationToken cancellationToken, byte[]? stdin = null)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = "true";
        start.Environment["LC_ALL"] = "C";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new GitCommandException($"cannot run git: {e.Message}", e);
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        if (stdin is not null)
        {
            // Small inputs only (batch-check lines): they fit in the pipe buffer, so writing before reading cannot deadlock.
            await process.StandardInput.BaseStream.WriteAsync(stdin, timeoutSource.Token);
        }

        process.StandardInput.Close();
        var stdout = ReadBoundedAsync(process.StandardOutput.BaseStream, maxStdoutBytes, timeoutSource.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeoutSource.Token);
        try
        {
            var output = await stdout;
            if (output is null)
            {
                Kill(process);
                throw new SourceLimitException($"git {Describe(arguments)} wrote more than {maxStdoutBytes} bytes");
            }

            var error = await stderr;
            await process.WaitForExitAsync(timeoutSource.Token);
            return new GitResult(process.ExitCode, output, OneLine(error));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            throw new TimeoutException($"git {Describe(arguments)} did not finish within {timeout.TotalSeconds:0}s");
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>The command as it would be typed, for error messages (arguments never carry secrets here).</summary>
    public static string Describe(IReadOnlyList<string> arguments) => string.Join(' ', arguments.Take(4));

    public static string OneLine(string text) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Reads at most <paramref name="max"/> bytes; null when the stream holds more.</summary>
    public static async Task<byte[]?> ReadBoundedAsync(Stream stream, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
