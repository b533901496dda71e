using System.Text;
using System.Text.Json.Nodes;
using Kfci.Firestore;
using Kfci.Functions.Uploader;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Storage;
using Kfci.Tests.Infra;
using Kfci.Testing;
using Kfci.Testing.Gcs;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Testing.PubSub;
using Kfci.Tests.Firestore;
using Kfci.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Tests.Uploader;

/// <summary>A step of a workflow a test sets up: its name, phase, message and log (null: the pod is gone).</summary>
internal sealed record TestStep(string Name, string Phase = "Succeeded", string? Message = null, string? Log = "step output\n");

/// <summary>
/// The Uploader behind the real function host, wired to the Firestore emulator (runs), a fake Kubernetes API server
/// (workflows, pods, logs, events), a results store (the fake GCS server or a local directory) and an in-memory publisher.
/// </summary>
internal sealed class UploaderHarness : IAsyncDisposable
{
    public const string Namespace = "kubeflow-test-infra";

    private static readonly DateTimeOffset s_start = new(2026, 11, 22, 5, 0, 0, TimeSpan.Zero);

    private readonly List<IAsyncDisposable> _owned = [];

    private UploaderHarness(FakeKubernetesServer cluster, IResultsStore store, IRunStore runs, UploaderSettings settings)
    {
        Cluster = cluster;
        Store = store;
        Runs = runs;
        Settings = settings;
    }

    public FakeKubernetesServer Cluster { get; }

    public IResultsStore Store { get; }

    public IRunStore Runs { get; }

    /// <summary>The test summaries the Uploader writes, on the same emulator project as <see cref="Runs"/>.</summary>
    public ITestSummaryStore Tests { get; private init; } = null!;

    public UploaderSettings Settings { get; }

    public InMemoryEventPublisher Publisher { get; } = new();

    public FunctionTestHost Host { get; private set; } = null!;

    /// <summary>Fast retries with the production policy's shape, so persistent faults end a delivery quickly.</summary>
    public static RetryOptions FastRetry { get; } = new()
    {
        MaxRetries = 3,
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(40),
        AttemptTimeout = TimeSpan.FromSeconds(20),
        Deadline = TimeSpan.FromSeconds(30),
    };

    /// <summary>A harness on a fake GCS bucket (<paramref name="gcs"/>) or, when null, a temporary local directory.</summary>
    /// <param name="publisher">The publisher the function uses; <see cref="Publisher"/> (in memory) when null.</param>
    /// <param name="statuses">Where commit statuses go; none are reported when null.</param>
    public static async Task<UploaderHarness> StartAsync(
        EmulatorFixture emulators, FakeGcsServer? gcs = null, string? nfsRoot = null, Func<UploaderSettings, UploaderSettings>? tweak = null, IEventPublisher? publisher = null,
        Kfci.Functions.Uploader.GitHub.ICommitStatusReporter? statuses = null)
    {
        var cluster = await FakeKubernetesServer.StartAsync(TerraformRbac.Options("uploader", Namespace));
        cluster.CreateNamespace(Namespace);
        IResultsStore store;
        string? directory = null;
        if (gcs is null)
        {
            directory = Directory.CreateTempSubdirectory("kfci-uploader-").FullName;
            store = new LocalDirectoryResultsStore(directory);
        }
        else
        {
            var bucket = "kfci-" + Guid.NewGuid().ToString("N")[..12];
            gcs.CreateBucket(bucket);
            var host = $"{gcs.BaseAddress.Host}:{gcs.BaseAddress.Port}";
            store = GcsResultsStore.Create(bucket, FastRetry, getEnv: name => name == "STORAGE_EMULATOR_HOST" ? host : null);
        }

        var settings = new UploaderSettings { NfsRoot = nfsRoot, LogsProject = "kfci-test", Retry = FastRetry, Parallelism = 4, ResultsBucket = (store as GcsResultsStore)?.Bucket };
        settings = tweak?.Invoke(settings) ?? settings;
        var firestore = EmulatorFirestore.NewClient(emulators, "up");
        var runs = new FirestoreRunStore(firestore);
        var harness = new UploaderHarness(cluster, store, runs, settings) { Tests = new FirestoreTestSummaryStore(firestore) };
        harness._owned.Add(cluster);
        if (directory is not null)
        {
            harness._owned.Add(new DeleteDirectory(directory));
        }

        harness.Host = await FunctionTestHost.StartAsync<Function>(configure: builder =>
        {
            builder.Services.AddSingleton(runs as IRunStore);
            builder.Services.AddSingleton(harness.Tests);
            builder.Services.AddSingleton(store);
            builder.Services.AddSingleton<IWorkflowCluster>(cluster.CreateCluster(FastRetry));
            builder.Services.AddSingleton(publisher ?? harness.Publisher);
            builder.Services.AddSingleton(settings);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton<ResultsUploader>();
            builder.Services.AddSingleton(statuses ?? new Kfci.Functions.Uploader.GitHub.NoCommitStatusReporter());
        });
        return harness;
    }

    /// <summary>A JobSpec of each type, as the Trigger records it.</summary>
    public static ProwJobSpec Spec(JobType type, string job = "kubeflow-e2e", string? buildId = null)
    {
        buildId ??= Random.Shared.NextInt64(1_000_000_000_000, 9_000_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var refs = new Refs
        {
            Org = "kubeflow",
            Repo = "kubeflow",
            BaseRef = "master",
            BaseSha = "1111111111111111111111111111111111111111",
            Pulls = type == JobType.Presubmit ? [new Pull { Number = 4242, Author = "dev", Sha = "2222222222222222222222222222222222222222" }]
                : type == JobType.Batch ? [new Pull { Number = 1, Author = "a", Sha = "aaaa" }, new Pull { Number = 2, Author = "b", Sha = "bbbb" }]
                : null,
        };
        return type == JobType.Periodic
            ? new ProwJobSpec(type, job, buildId, null, [refs with { Org = "kubeflow", Repo = "testing" }])
            : new ProwJobSpec(type, job, buildId, refs, []);
    }

    /// <summary>
    /// Stores a completed run whose workflows are set up in the fake cluster: each is (name, phase, steps); pods are named
    /// the way Argo names them and serve their logs; failed steps get a Kubernetes event.
    /// </summary>
    public async Task<RunRecord> AddCompletedRunAsync(ProwJobSpec spec, IReadOnlyList<(string Name, string Phase, TestStep[] Steps)> workflows, Func<RunRecord, RunRecord>? tweak = null)
    {
        var records = new List<WorkflowRecord>();
        var index = 0;
        foreach (var (name, phase, steps) in workflows)
        {
            if (steps.Length > 0 || phase != "Vanished")
            {
                AddWorkflow(spec.Run.RunId, name, phase, steps);
            }

            records.Add(new WorkflowRecord
            {
                Name = name,
                Namespace = Namespace,
                EntryName = name,
                EntryIndex = index++,
                Submitted = true,
                Phase = phase == "Vanished" ? WorkflowPhases.Error : phase,
                StartedAt = s_start,
                FinishedAt = s_start.AddMinutes(10),
                UiLink = $"https://argo.example.com/workflows/{Namespace}/{name}",
            });
        }

        var run = new RunRecord
        {
            RunId = spec.Run.RunId,
            JobName = spec.JobName,
            BuildId = spec.BuildId,
            JobType = spec.Type.ToProwString(),
            JobSpec = spec.ToJson(),
            Repo = spec.PrimaryRefs is { } r ? $"{r.Org}/{r.Repo}" : null,
            PullNumber = spec.Refs?.FirstPull?.Number,
            State = RunState.Completed,
            CreatedAt = s_start.AddMinutes(-1),
            UpdatedAt = s_start.AddMinutes(11),
            StartedAt = s_start,
            CompletedAt = s_start.AddMinutes(11),
            Workflows = records,
        };
        run = tweak?.Invoke(run) ?? run;
        var (stored, _) = await Runs.CreateAsync(run, default);
        return stored;
    }

    /// <summary>Creates an Argo Steps workflow in <paramref name="phase"/> with one Pod node per step, started a minute apart.</summary>
    public JsonObject AddWorkflow(string runId, string name, string phase, IReadOnlyList<TestStep> steps)
    {
        var nodes = new JsonObject
        {
            [name] = new JsonObject { ["id"] = name, ["name"] = name, ["displayName"] = name, ["type"] = "Steps", ["phase"] = phase, ["templateName"] = "main" },
        };
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var nodeName = $"{name}[{i}].{step.Name}";
            var id = $"{name}-{WorkflowSteps.Fnv32a(nodeName)}";
            nodes[id] = new JsonObject
            {
                ["id"] = id,
                ["name"] = nodeName,
                ["displayName"] = step.Name,
                ["type"] = "Pod",
                ["templateName"] = $"step{i}",
                ["phase"] = step.Phase,
                ["message"] = step.Message,
                // Listed out of order on purpose: the Uploader sorts by start time.
                ["startedAt"] = Rfc3339(s_start.AddMinutes(steps.Count - i)),
                ["finishedAt"] = Rfc3339(s_start.AddMinutes(steps.Count - i).AddSeconds(30)),
            };
            var pod = WorkflowSteps.PodName(name, nodeName, $"step{i}");
            if (step.Log is not null)
            {
                Cluster.AddPod(Namespace, pod, new Dictionary<string, string> { ["init"] = "init noise\n", ["main"] = step.Log, ["wait"] = "wait noise\n" }, step.Phase);
            }

            if (step.Phase is "Failed" or "Error")
            {
                Cluster.AddEvent(Namespace, "Pod", pod, "BackOff", $"Back-off restarting failed container main in pod {pod}", "Warning");
            }
        }

        var workflow = new JsonObject
        {
            ["apiVersion"] = "argoproj.io/v1alpha1",
            ["kind"] = "Workflow",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = Namespace,
                ["labels"] = new JsonObject { [WorkflowLabels.Managed] = "true", [WorkflowLabels.RunId] = runId },
            },
            ["spec"] = new JsonObject { ["entrypoint"] = "main", ["arguments"] = new JsonObject { ["parameters"] = new JsonArray(new JsonObject { ["name"] = "flag", ["value"] = "true" }) } },
            ["status"] = new JsonObject { ["nodes"] = nodes },
        };
        Cluster.Create(FakeResource.Workflows, Namespace, workflow);
        return Cluster.SetWorkflowPhase(Namespace, name, phase, phase == "Succeeded" ? null : $"child {name} {phase.ToLowerInvariant()}");
    }

    /// <summary>Pushes a run event as the subscription would.</summary>
    public async Task<HttpResponseMessage> DeliverAsync(string eventType, RunRecord run, string messageId = "m-1")
    {
        var message = RunEvent.For(eventType, run).ToMessage();
        return await Host.PushAsync(Encoding.UTF8.GetString(message.Data.Span), message.Attributes, messageId);
    }

    /// <summary>Pushes a run event and asserts it was handled (204), showing the function's warnings when it was not.</summary>
    public async Task DeliverOkAsync(string eventType, RunRecord run, string messageId = "m-1")
    {
        var response = await DeliverAsync(eventType, run, messageId);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.NoContent, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{ErrorLog}");
    }

    public string ErrorLog => string.Join('\n', Host.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => $"{e.Message} {e.Exception}"));

    /// <summary>Every object name in the store, sorted.</summary>
    public async Task<List<string>> ListAsync(string prefix = "")
    {
        var names = new List<string>();
        await foreach (var entry in Store.ListAsync(prefix, null, default))
        {
            names.Add(entry.Name);
        }

        return names;
    }

    public async Task<string?> ReadTextAsync(string path)
    {
        await using var stream = await Store.OpenReadAsync(path, default);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class DeleteDirectory(string path) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp directory left behind harms nobody.
            }

            return ValueTask.CompletedTask;
        }
    }
}
