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
/// Runs one step as its pod's <c>main</c> container would run: stdout and stderr interleaved into the pod log, stdout
/// kept for <c>outputs.result</c>. The step is the repository's code, so it always runs under bubblewrap: the host
/// filesystem read-only, each volume writable at its mountPath, a private <c>/tmp</c>, its own user, PID and IPC
/// namespaces, and only the environment the workflow gives it. The network is shared with the host, because CI steps
/// fetch dependencies; the directories on the way to a mountPath are rebuilt entry by entry so it can be created.
/// </summary>
public static class StepProcess
{
    private const int MaxResultBytes = 1024 * 1024;

    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// What a step's environment starts from before the container's own env: a search path for the host's tools, a
    /// home in the step's private /tmp and a UTF-8 locale; nothing else of the user's (no cloud credentials, tokens).
    /// </summary>
    public static Dictionary<string, string> BaseEnvironment() => new(StringComparer.Ordinal)
    {
        ["PATH"] = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path : DefaultPath,
        ["HOME"] = "/tmp",
        ["LANG"] = "C.UTF-8",
    };

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

        if (bubblewrap is null)
        {
            return new StepOutcome(-1, "", "the local engine runs every step in a bubblewrap sandbox, and bwrap is not installed: run scripts/setup.sh or apt-get install bubblewrap", false);
        }

        var program = command.Argv[0];
        var inMount = command.Mounts.Any(m => program.StartsWith(m.Target + "/", StringComparison.Ordinal));
        if (!inMount && FindOnPath(program, command.Environment.GetValueOrDefault("PATH")) is null)
        {
            return new StepOutcome(-1, "", $"executable file not found in $PATH: \"{program}\" (the local engine runs steps with this host's tools)", false);
        }

        var start = new ProcessStartInfo
        {
            FileName = bubblewrap,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        var argv = new List<string>([.. SandboxArguments(command), "--", .. command.Argv]);
        foreach (var argument in argv)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (name, value) in command.Environment)
        {
            start.Environment[name] = value;
        }

        PrepareWorkingDirectory(command.WorkingDirectory, command.Mounts);

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
        // Network stays shared on purpose: CI steps download dependencies (docs/security.md says so).
        var arguments = new List<string> { "--die-with-parent", "--new-session", "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts" };
        AddTree("/", targets, arguments);
        arguments.AddRange(["--tmpfs", "/tmp"]);
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
            // A working directory outside every volume is the step's own scratch space, as a container's would be.
            if (!command.Mounts.Any(m => IsUnder(workingDirectory, Normalize(m.Target))))
            {
                arguments.AddRange(["--tmpfs", workingDirectory]);
            }

            arguments.AddRange(["--chdir", workingDirectory]);
        }
        else
        {
            arguments.AddRange(["--chdir", "/tmp"]);
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
                    "/tmp" => [],
                    _ => ["--ro-bind", entry, entry],
                });
            }
        }
    }

    // Docker and the kubelet create a missing workingDir; so does the engine, on the volume behind it (one outside
    // every volume is a tmpfs inside the sandbox, never a directory made on the host).
    private static void PrepareWorkingDirectory(string? workingDirectory, IReadOnlyList<Mount> mounts)
    {
        var mount = string.IsNullOrEmpty(workingDirectory) ? null : mounts.FirstOrDefault(m => IsUnder(workingDirectory, Normalize(m.Target)));
        if (mount is null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(mount.Source + workingDirectory![Normalize(mount.Target).Length..]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // bubblewrap reports the missing directory itself.
        }
    }

    private static string Normalize(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    private static bool IsUnder(string path, string directory) =>
        path == directory || path.StartsWith(directory == "/" ? "/" : directory + "/", StringComparison.Ordinal);

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
