using System.ComponentModel;
using System.Diagnostics;

namespace Kfci.Cli.Engine;

/// <summary>A host directory a step sees at <see cref="Target"/> (its volume's mountPath).</summary>
public sealed record Mount(string Source, string Target, bool ReadOnly);

/// <summary>What one step runs: the container's command line, environment, working directory and mounts.</summary>
public sealed record StepCommand(IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Environment, string? WorkingDirectory, IReadOnlyList<Mount> Mounts);

/// <summary>How a step ended: its exit code and stdout, or why it could not start, or that it was killed.</summary>
public sealed record StepOutcome(int ExitCode, string Stdout, string? StartError, bool Killed);

/// <summary>
/// Runs one step on the host as its pod's <c>main</c> container would run: stdout and stderr interleaved into the
/// pod log, stdout kept for <c>outputs.result</c>. Steps with mounts run under bubblewrap, which builds a view of
/// the host filesystem in which each volume's directory appears at its mountPath (without root, without a daemon):
/// every top-level entry is bound as it is except the directories on the way to a mountPath, which are rebuilt
/// entry by entry so that the mountPath can be created in them.
/// </summary>
public static class StepProcess
{
    private const int MaxResultBytes = 1024 * 1024;

    /// <summary>bubblewrap's path, or null when it is not installed.</summary>
    public static string? FindBubblewrap() => FindOnPath("bwrap", Environment.GetEnvironmentVariable("PATH"));

    public static string? FindOnPath(string program, string? path)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        return (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
    }

    public static async Task<StepOutcome> RunAsync(StepCommand command, string logFile, string? bubblewrap, CancellationToken kill)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Argv.Count == 0)
        {
            return new StepOutcome(-1, "", "the container has no command: the local engine cannot run an image's entrypoint", false);
        }

        if (command.Mounts.Count > 0 && bubblewrap is null)
        {
            return new StepOutcome(-1, "", "the step mounts volumes, which the local engine maps with bubblewrap (bwrap), and bwrap is not installed: run scripts/setup.sh or apt-get install bubblewrap", false);
        }

        var program = command.Argv[0];
        var inMount = command.Mounts.Any(m => program.StartsWith(m.Target + "/", StringComparison.Ordinal));
        if (!inMount && FindOnPath(program, command.Environment.GetValueOrDefault("PATH")) is null)
        {
            return new StepOutcome(-1, "", $"executable file not found in $PATH: \"{program}\" (the local engine runs steps with this host's tools)", false);
        }

        var start = new ProcessStartInfo
        {
            FileName = command.Mounts.Count > 0 ? bubblewrap! : program,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        var argv = command.Mounts.Count > 0 ? [.. SandboxArguments(command), "--", .. command.Argv] : command.Argv.Skip(1).ToList();
        foreach (var argument in argv)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (name, value) in command.Environment)
        {
            start.Environment[name] = value;
        }

        if (command.Mounts.Count == 0)
        {
            start.WorkingDirectory = PrepareWorkingDirectory(command.WorkingDirectory, command.Mounts) ?? Path.GetTempPath();
        }
        else
        {
            PrepareWorkingDirectory(command.WorkingDirectory, command.Mounts);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        await using var log = new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new StepOutcome(-1, "", $"could not start \"{program}\": {e.Message}", false);
        }

        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        var gate = new SemaphoreSlim(1, 1);
        var copyOut = CopyAsync(process.StandardOutput.BaseStream, log, gate, stdout);
        var copyErr = CopyAsync(process.StandardError.BaseStream, log, gate, null);
        var killed = false;
        try
        {
            await process.WaitForExitAsync(kill);
        }
        catch (OperationCanceledException)
        {
            killed = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        await Task.WhenAll(copyOut, copyErr);
        var result = System.Text.Encoding.UTF8.GetString(stdout.GetBuffer(), 0, (int)stdout.Length);
        return new StepOutcome(process.ExitCode, result, null, killed);
    }

    /// <summary>The bubblewrap arguments that show the host with each mount at its target.</summary>
    public static IReadOnlyList<string> SandboxArguments(StepCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var targets = command.Mounts.Select(m => Normalize(m.Target)).ToList();
        var arguments = new List<string> { "--die-with-parent", "--unshare-pid" };
        AddTree("/", targets, arguments);
        foreach (var mount in command.Mounts.OrderBy(m => m.Target.Length))
        {
            var target = Normalize(mount.Target);
            for (var parent = Path.GetDirectoryName(target); parent is not null && parent != "/"; parent = Path.GetDirectoryName(parent))
            {
                if (!Directory.Exists(parent))
                {
                    arguments.AddRange(["--dir", parent]);
                }
            }

            arguments.AddRange([mount.ReadOnly ? "--ro-bind" : "--bind", mount.Source, target]);
        }

        if (command.WorkingDirectory is { Length: > 0 } workingDirectory)
        {
            arguments.AddRange(["--chdir", workingDirectory]);
        }

        return arguments;
    }

    private static void AddTree(string directory, List<string> targets, List<string> arguments)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(entry);
            var isLink = info.LinkTarget is not null;
            if (targets.Contains(entry))
            {
                continue;
            }

            if (targets.Any(t => t.StartsWith(entry + "/", StringComparison.Ordinal)) && !isLink && Directory.Exists(entry))
            {
                arguments.AddRange(["--dir", entry]);
                AddTree(entry, targets, arguments);
            }
            else if (isLink)
            {
                arguments.AddRange(["--symlink", info.LinkTarget!, entry]);
            }
            else
            {
                arguments.AddRange(entry switch
                {
                    "/proc" => ["--proc", "/proc"],
                    "/dev" => ["--dev", "/dev"],
                    "/sys" => ["--ro-bind", "/sys", "/sys"],
                    _ => ["--bind", entry, entry],
                });
            }
        }
    }

    // Docker and the kubelet create a missing workingDir; so does the engine, on the host path behind it.
    private static string? PrepareWorkingDirectory(string? workingDirectory, IReadOnlyList<Mount> mounts)
    {
        if (string.IsNullOrEmpty(workingDirectory))
        {
            return null;
        }

        var mount = mounts.FirstOrDefault(m => workingDirectory == m.Target || workingDirectory.StartsWith(m.Target + "/", StringComparison.Ordinal));
        var host = mount is null ? workingDirectory : mount.Source + workingDirectory[mount.Target.Length..];
        try
        {
            Directory.CreateDirectory(host);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // bubblewrap or the process start reports the missing directory itself.
        }

        return host;
    }

    private static string Normalize(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    private static async Task CopyAsync(Stream source, Stream log, SemaphoreSlim gate, MemoryStream? keep)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            await gate.WaitAsync();
            try
            {
                await log.WriteAsync(buffer.AsMemory(0, read));
                await log.FlushAsync();
            }
            finally
            {
                gate.Release();
            }

            if (keep is not null && keep.Length < MaxResultBytes)
            {
                keep.Write(buffer, 0, Math.Min(read, MaxResultBytes - (int)keep.Length));
            }
        }
    }
}
