using System.Diagnostics;
using System.Globalization;
using System.Net;
using Kfci.Configuration;
using Kfci.Local;
using Kfci.PubSub;
using Kfci.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Cli.Local;

/// <summary>
/// The whole chain on one machine: the real Pub/Sub and Firestore emulators, the local workflow engine, the four
/// function hosts and a Cloud Scheduler stand-in, each its own process, all on loopback. Started processes outlive
/// the command; their pids and ports are kept in KFCI_HOME so <c>down</c>, <c>status</c> and the on-call commands find them.
/// </summary>
public sealed class LocalChain(KfciPaths paths, TextWriter output)
{
    public const string Project = "kfci-local";

    public const string PubSubEmulator = "pubsub-emulator";
    public const string FirestoreEmulator = "firestore-emulator";
    public const string Engine = "engine";
    public const string Scheduler = "scheduler";

    /// <summary>The function projects under functions/, in start order; their process names are the lowercase forms (Terraform's keys).</summary>
    public static readonly IReadOnlyList<string> Functions = ["Trigger", "Watcher", "Uploader", "Janitor"];

    /// <summary>
    /// Where the local Janitor's Google APIs are: a loopback port no API listens on (9, discard, needs root to bind), so
    /// every listing fails and nothing can be deleted; the Janitor itself refuses real Google Cloud next to emulators.
    /// </summary>
    public const string JanitorGcpEndpoint = "127.0.0.1:9";

    /// <summary>The local Janitor's configuration: a dry run of the local stack's own made-up project, never a real one.</summary>
    public const string LocalJanitorConfig = """
        # Written by 'kfci local up'. The local Janitor sweeps nothing real: dry run, a made-up project, and its Google
        # APIs at a loopback port nothing answers on. To sweep a real project use 'kfci janitor sweep --config FILE'.
        dryRun: true
        projects: [kfci-local]
        testCluster: kfci-local
        zones: [local]
        """;

    private static readonly HttpClient s_probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <param name="prowJobs">Prow's job configuration file for the Trigger (<c>KFCI_PROW_JOBS</c>); null for none.</param>
    /// <param name="periodics">kfci's own periodics for the scheduler (Terraform's variables file); null for none.</param>
    /// <param name="cancellationToken">Stops the start-up.</param>
    public async Task<LocalStackState> UpAsync(string? prowJobs, string? periodics, CancellationToken cancellationToken)
    {
        prowJobs = prowJobs is null ? null : Path.GetFullPath(prowJobs);
        periodics = periodics is null ? null : Path.GetFullPath(periodics);
        if (periodics is not null)
        {
            // Checked now, so a bad file fails 'local up' with its reason instead of a scheduler that dies later.
            LocalPeriodics.Load(periodics);
        }

        if (LocalStackState.Load(paths.Home) is { } existing)
        {
            if (await IsHealthyAsync(existing, cancellationToken))
            {
                // Asking for nothing (local run) takes the stack as it is; asking for other files needs a restart.
                if ((prowJobs is not null && existing.ProwJobs != prowJobs) || (periodics is not null && existing.Periodics != periodics))
                {
                    throw new InvalidOperationException("the local stack is up with other --prow-jobs/--periodics; run 'kfci local down' first");
                }

                await output.WriteLineAsync("kfci local stack is already up.");
                return existing;
            }

            await output.WriteLineAsync("Found a stale local stack; stopping what is left of it.");
            Down(existing);
            LocalStackState.Delete(paths.Home);
        }

        // Fail before starting anything when this build has no engine, rather than leave half a stack behind.
        if (!LocalCommands.HasEngine)
        {
            throw new InvalidOperationException("this kfci build has no local workflow engine ('kfci local engine' is missing); it comes with the engine branch (h/engine)");
        }

        foreach (var directory in new[] { paths.ResultsDirectory, paths.GitRoot, paths.NfsRoot, paths.LogDirectory })
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(JanitorConfigPath(paths), LocalJanitorConfig, cancellationToken);
        await BuildFunctionsAsync(cancellationToken);
        var started = new List<LocalProcess>();
        var token = LocalStackState.NewClusterToken();
        try
        {
            var pubSub = Emulator.StartAsync(EmulatorKind.PubSub, paths.LogDirectory, cancellationToken: cancellationToken);
            var firestore = StartFirestoreAsync(cancellationToken);
            started.Add(Describe(PubSubEmulator, await pubSub));
            started.Add(Describe(FirestoreEmulator, await firestore));

            // The engine publishes Argo's completion events to argo-events itself, so it gets the emulators too.
            var engine = StartKfci(Engine, ["local", "engine", "--port", "{port}"], Environment(new LocalStackState { Project = Project, Processes = started, ClusterToken = token }, paths));
            started.Add(engine);
            await WaitHealthyAsync(engine, TimeSpan.FromSeconds(30), cancellationToken);
            var environment = Environment(new LocalStackState { Project = Project, Processes = started, ProwJobs = prowJobs, Periodics = periodics, ClusterToken = token }, paths);
            var functions = Functions.Select(f => StartFunction(f, environment)).ToList();
            started.AddRange(functions);
            foreach (var function in functions)
            {
                await WaitHealthyAsync(function, TimeSpan.FromSeconds(30), cancellationToken);
            }

            var pubSubClient = PubSubClient.Create(Project, getEnv: name => environment.GetValueOrDefault(name));
            await LocalTopology.CreateAsync(pubSubClient, functions.ToDictionary(f => f.Name, f => f.Url, StringComparer.Ordinal), cancellationToken);
            started.Add(StartKfci(Scheduler, ["local", "scheduler"], environment));
        }
        catch
        {
            Down(new LocalStackState { Project = Project, Processes = started, ClusterToken = token });
            throw;
        }

        var state = new LocalStackState { Project = Project, Processes = started, StartedAt = DateTimeOffset.UtcNow, ProwJobs = prowJobs, Periodics = periodics, ClusterToken = token };
        state.Save(paths.Home);
        await SettleInterruptedRunsAsync(state, cancellationToken);
        return state;
    }

    private async Task SettleInterruptedRunsAsync(LocalStackState state, CancellationToken cancellationToken)
    {
        var environment = Environment(state, paths);
        await using var services = new ServiceCollection()
            .AddKfciAdapters(name => environment.TryGetValue(name, out var value) ? value : System.Environment.GetEnvironmentVariable(name))
            .BuildServiceProvider();
        var settled = await LocalRecovery.SettleInterruptedAsync(services.GetRequiredService<IRunStore>(), state.StartedAt, cancellationToken);
        if (settled.Count > 0)
        {
            await output.WriteLineAsync($"Marked {settled.Count} run(s) the last stop interrupted before submission as error: {string.Join(", ", settled)} ('kfci replay RUN' runs one again).");
        }
    }

    /// <summary>
    /// Starts the Firestore emulator from the newest good export in KFCI_HOME, so runs, sweeps and rejections outlive
    /// the stack. An export the emulator cannot read (it exits at once) is set aside and the next older one tried;
    /// with none left, the stack starts empty rather than not at all.
    /// </summary>
    private async Task<Emulator> StartFirestoreAsync(CancellationToken cancellationToken)
    {
        var snapshots = new FirestoreSnapshots(paths.Home);
        foreach (var snapshot in snapshots.Good(output))
        {
            try
            {
                var emulator = await Emulator.StartAsync(
                    EmulatorKind.Firestore, paths.LogDirectory, extraArguments: [$"--import-data={snapshot.MetadataFile}"], cancellationToken: cancellationToken);
                await output.WriteLineAsync($"Firestore state: imported the export of {snapshot.ExportedAt:u} ({snapshot.Age(DateTimeOffset.UtcNow)} old) from {snapshots.Directory}.");
                return emulator;
            }
            catch (InvalidOperationException e)
            {
                snapshots.SetAside(snapshot, "the emulator could not import it: " + e.Message.ReplaceLineEndings(" "), output);
            }
        }

        await output.WriteLineAsync($"Firestore state: none saved yet; starting empty (kept in {snapshots.Directory}).");
        return await Emulator.StartAsync(EmulatorKind.Firestore, paths.LogDirectory, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// What the functions, the scheduler and the on-call commands need to reach the local stack: the project, the
    /// emulators, the engine as the cluster, KFCI_HOME's directories as bucket, git host and NFS, and the chain's topics.
    /// </summary>
    public static Dictionary<string, string> Environment(LocalStackState state, KfciPaths paths)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(paths);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [KfciEnvironment.Project] = state.Project,
            [KfciEnvironment.ResultsDirectory] = paths.ResultsDirectory,
            [KfciEnvironment.GitRoot] = paths.GitRoot,
            [KfciEnvironment.NfsRoot] = paths.NfsRoot,
            [KfciEnvironment.RunSubmittedTopic] = KfciTopics.RunSubmitted,
            [KfciEnvironment.RunCompletedTopic] = KfciTopics.RunCompleted,
            [KfciEnvironment.RunFinishedTopic] = KfciTopics.RunFinished,
            [KfciPaths.HomeVariable] = paths.Home,
        };
        if (state.Find(PubSubEmulator) is { } pubSub)
        {
            environment[KfciEnvironment.PubSubEmulatorHost] = pubSub.HostPort;
        }

        if (state.ProwJobs is { } prowJobs)
        {
            environment[KfciEnvironment.ProwJobs] = prowJobs;
        }

        if (state.Periodics is { } periodics)
        {
            environment[LocalScheduler.PeriodicsVariable] = periodics;
        }

        if (state.Find(FirestoreEmulator) is { } firestore)
        {
            environment[KfciEnvironment.FirestoreEmulatorHost] = firestore.HostPort;
        }

        if (state.Find(Engine) is { } engine)
        {
            environment[KfciEnvironment.ClusterEndpoint] = $"http://{engine.HostPort}";
        }

        if (state.ClusterToken is { } token)
        {
            environment[KfciEnvironment.ClusterToken] = token;
        }

        return environment;
    }

    /// <summary>The Janitor's environment on top of <see cref="Environment"/>: its local configuration and a Google API endpoint that is no one's.</summary>
    public static Dictionary<string, string> JanitorEnvironment(Dictionary<string, string> environment, KfciPaths paths)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(paths);
        return new Dictionary<string, string>(environment, StringComparer.Ordinal)
        {
            [KfciEnvironment.JanitorConfig] = JanitorConfigPath(paths),
            [KfciEnvironment.GcpApiEndpoint] = JanitorGcpEndpoint,
        };
    }

    public static string JanitorConfigPath(KfciPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return Path.Combine(paths.Home, "janitor.yaml");
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

        // The scheduler serves nothing: alive is healthy.
        if (process.Port == 0)
        {
            return true;
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
        PubSubEmulator => "v1/projects/health/topics",
        FirestoreEmulator => string.Empty,
        _ => "healthz",
    };

    private static LocalProcess Describe(string name, Emulator emulator) => new(name, emulator.ProcessId, emulator.Port, emulator.LogFile);

    private static Dictionary<string, string> HostEnvironment(Dictionary<string, string> environment, int port) =>
        new(environment, StringComparer.Ordinal)
        {
            [KfciEnvironment.Port] = port.ToString(CultureInfo.InvariantCulture),
            [KfciEnvironment.BindAddress] = "127.0.0.1",
            [KfciEnvironment.LogFormat] = "text",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };

    private LocalProcess StartFunction(string function, Dictionary<string, string> environment)
    {
        var name = function.ToLowerInvariant();
        var port = Emulator.FreeLoopbackPort();
        var logFile = Path.Combine(paths.LogDirectory, $"{name}.log");
        var own = function == "Janitor" ? JanitorEnvironment(environment, paths) : environment;
        var processId = DetachedProcess.Start("dotnet", [FunctionAssembly(function)], logFile, HostEnvironment(own, port), paths.Home);
        return new LocalProcess(name, processId, port, logFile);
    }

    /// <summary>Starts this same kfci program with <paramref name="arguments"/> ("{port}" replaced by a free port for servers).</summary>
    private LocalProcess StartKfci(string name, string[] arguments, Dictionary<string, string> environment)
    {
        var port = arguments.Contains("{port}") ? Emulator.FreeLoopbackPort() : 0;
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var logFile = Path.Combine(paths.LogDirectory, $"{name}.log");
        var processId = DetachedProcess.Start(
            "dotnet",
            [KfciAssembly, .. arguments.Select(a => a == "{port}" ? portText : a)],
            logFile,
            HostEnvironment(environment, port),
            paths.Home);
        return new LocalProcess(name, processId, port, logFile);
    }

    private static string KfciAssembly => typeof(LocalChain).Assembly.Location;

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
        var (exitCode, text) = await ChildProcess.RunAsync("dotnet", ["build", "kfci.functions.slnf", "-c", "Release", "--nologo", "-v", "q"], paths.RepositoryRoot, cancellationToken);
        if (exitCode != 0)
        {
            var errors = text.Split('\n').Where(l => l.Contains("error", StringComparison.Ordinal)).Take(3);
            throw new InvalidOperationException("the functions did not build: " + string.Join(" | ", errors));
        }
    }
}
