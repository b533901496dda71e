using System.Diagnostics;
using System.Net;
using Kfci.Configuration;
using Kfci.Local;

namespace Kfci.Cli.Local;

/// <summary>
/// The whole chain on one machine: the real Pub/Sub and Firestore emulators and the four function hosts
/// as separate processes, all on loopback. Started processes outlive the command; their pids and ports
/// are kept in KFCI_HOME so <c>down</c> and <c>status</c> find them.
/// </summary>
public sealed class LocalChain(KfciPaths paths, TextWriter output)
{
    public const string Project = "kfci-local";

    public static readonly IReadOnlyList<string> Functions = ["Trigger", "Watcher", "Uploader", "Janitor"];

    private static readonly HttpClient s_probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    public async Task<LocalStackState> UpAsync(CancellationToken cancellationToken)
    {
        if (LocalStackState.Load(paths.Home) is { } existing)
        {
            if (await IsHealthyAsync(existing, cancellationToken))
            {
                await output.WriteLineAsync("kfci local stack is already up.");
                return existing;
            }

            await output.WriteLineAsync("Found a stale local stack; stopping what is left of it.");
            Down(existing);
        }

        await BuildFunctionsAsync(cancellationToken);
        var started = new List<LocalProcess>();
        try
        {
            var pubSub = Emulator.StartAsync(EmulatorKind.PubSub, paths.LogDirectory, cancellationToken: cancellationToken);
            var firestore = Emulator.StartAsync(EmulatorKind.Firestore, paths.LogDirectory, cancellationToken: cancellationToken);
            started.Add(Describe("pubsub-emulator", await pubSub));
            started.Add(Describe("firestore-emulator", await firestore));
            var environment = FunctionEnvironment(started[0], started[1]);
            foreach (var function in Functions)
            {
                started.Add(StartFunction(function, environment));
            }

            foreach (var function in started.Skip(2))
            {
                await WaitHealthyAsync(function, TimeSpan.FromSeconds(30), cancellationToken);
            }
        }
        catch
        {
            Down(new LocalStackState { Project = Project, Processes = started });
            throw;
        }

        var state = new LocalStackState { Project = Project, Processes = started, StartedAt = DateTimeOffset.UtcNow };
        state.Save(paths.Home);
        return state;
    }

    public static void Down(LocalStackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var process in state.Processes.Reverse())
        {
            ProcessGroups.Terminate(process.ProcessId);
        }
    }

    public static async Task<bool> IsHealthyAsync(LocalStackState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var checks = await Task.WhenAll(state.Processes.Select(p => IsHealthyAsync(p, cancellationToken)));
        return checks.All(ok => ok);
    }

    public static async Task<bool> IsHealthyAsync(LocalProcess process, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (!ProcessGroups.IsAlive(process.ProcessId))
        {
            return false;
        }

        try
        {
            using var response = await s_probe.GetAsync(new Uri(process.Url, HealthPath(process.Name)), cancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static string HealthPath(string name) => name switch
    {
        "pubsub-emulator" => "v1/projects/health/topics",
        "firestore-emulator" => string.Empty,
        _ => "healthz",
    };

    private static LocalProcess Describe(string name, Emulator emulator) => new(name, emulator.ProcessId, emulator.Port, emulator.LogFile);

    private static Dictionary<string, string> FunctionEnvironment(LocalProcess pubSub, LocalProcess firestore) => new()
    {
        [KfciEnvironment.Project] = Project,
        [KfciEnvironment.PubSubEmulatorHost] = pubSub.HostPort,
        [KfciEnvironment.FirestoreEmulatorHost] = firestore.HostPort,
        ["KFCI_BIND_ADDRESS"] = "127.0.0.1",
        ["KFCI_LOG_FORMAT"] = "text",
        ["DOTNET_ENVIRONMENT"] = "Production",
    };

    private LocalProcess StartFunction(string function, Dictionary<string, string> environment)
    {
        var port = Emulator.FreeLoopbackPort();
        var logFile = Path.Combine(paths.LogDirectory, $"{function.ToLowerInvariant()}.log");
        var dll = FunctionAssembly(function);
        var processEnvironment = new Dictionary<string, string>(environment) { [KfciEnvironment.Port] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var processId = DetachedProcess.Start("dotnet", [dll], logFile, processEnvironment, paths.Home);
        return new LocalProcess(function.ToLowerInvariant(), processId, port, logFile);
    }

    private string FunctionAssembly(string function) =>
        Path.Combine(paths.RepositoryRoot, "functions", function, "bin", "Release", "net10.0", $"Kfci.Functions.{function}.dll");

    private static async Task WaitHealthyAsync(LocalProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await IsHealthyAsync(process, cancellationToken))
            {
                return;
            }

            if (!ProcessGroups.IsAlive(process.ProcessId))
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new InvalidOperationException($"{process.Name} did not become healthy on {process.HostPort}: {DetachedProcess.Tail(process.LogFile)}");
    }

    private async Task BuildFunctionsAsync(CancellationToken cancellationToken)
    {
        await output.WriteLineAsync("Building the four functions (Release)...");
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = paths.RepositoryRoot,
        };
        foreach (var argument in new[] { "build", "kfci.functions.slnf", "-c", "Release", "--nologo", "-v", "q" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not run dotnet build");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            var errors = (await stdout + await stderr).Split('\n').Where(l => l.Contains("error", StringComparison.Ordinal)).Take(3);
            throw new InvalidOperationException("the functions did not build: " + string.Join(" | ", errors));
        }
    }
}
