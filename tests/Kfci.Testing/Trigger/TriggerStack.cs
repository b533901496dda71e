using System.Diagnostics;
using System.Text;
using Kfci.Firestore;
using Kfci.Functions.Trigger;
using Kfci.Hosting;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Sources;
using Kfci.Testing.Git;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Testing.PubSub;
using Kfci.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Testing.Trigger;

/// <summary>
/// The Trigger as it runs in the chain, on loopback: the real function host on Kestrel, fed by a Pub/Sub emulator push
/// subscription on <c>prow-events</c>; runs in the Firestore emulator; workflows in a <see cref="FakeKubernetesServer"/>;
/// code read with real git from repositories under a temporary <c>KFCI_GIT_ROOT</c>. Each stack has its own project.
/// </summary>
public sealed class TriggerStack : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<TestGitRepository> _repositories = [];

    private TriggerStack(WebApplication app, FakeKubernetesServer kubernetes, PubSubClient pubSub, IRunStore runs, InMemoryEventPublisher published, string gitRoot, CapturedLogs logs)
    {
        _app = app;
        Kubernetes = kubernetes;
        PubSub = pubSub;
        Runs = runs;
        Published = published;
        GitRoot = gitRoot;
        Logs = logs;
    }

    public const string Namespace = WorkflowRenderOptions.DefaultNamespace;

    public FakeKubernetesServer Kubernetes { get; }

    public PubSubClient PubSub { get; }

    public IRunStore Runs { get; }

    /// <summary>What the Trigger published (run.submitted, run.completed).</summary>
    public InMemoryEventPublisher Published { get; }

    public string GitRoot { get; }

    public CapturedLogs Logs { get; }

    public Uri Endpoint => new(_app.Urls.First() + "/");

    /// <param name="emulators">The test run's emulators.</param>
    /// <param name="clusterRetry">The Kubernetes client's retries (none lets a fault reach the function).</param>
    /// <param name="pushEndpoint">Push somewhere else (e.g. a do-nothing handler) instead of the Trigger; null = the Trigger.</param>
    /// <param name="prowJobs">Prow's job configuration (<c>KFCI_PROW_JOBS</c>); null for none.</param>
    /// <param name="kubernetesOptions">The cluster fake's options (e.g. an RBAC authorizer); null for the defaults.</param>
    public static async Task<TriggerStack> StartAsync(
        EmulatorFixture emulators, RetryOptions? clusterRetry = null, Uri? pushEndpoint = null, string? prowJobs = null, FakeKubernetesOptions? kubernetesOptions = null)
    {
        ArgumentNullException.ThrowIfNull(emulators);
        var project = EmulatorFixture.NewProjectId("trg");
        var gitRoot = Directory.CreateTempSubdirectory("kfci-gitroot-").FullName;
        var kubernetes = await FakeKubernetesServer.StartAsync(kubernetesOptions);
        kubernetes.CreateNamespace(Namespace);
        var fast = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(200) };
        var firestore = FirestoreClient.Create(project, retry: fast, getEnv: name => name == emulators.Firestore.HostVariable ? emulators.Firestore.HostPort : null);
        var pubSub = PubSubClient.Create(project, getEnv: name => name == emulators.PubSub.HostVariable ? emulators.PubSub.HostPort : null);
        var runs = new FirestoreRunStore(firestore);
        var published = new InMemoryEventPublisher();
        var logs = new CapturedLogs();

        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Port = 0, LogFormat = LogFormat.Text });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<IRunStore>(runs);
        builder.Services.AddSingleton<IWorkflowCluster>(kubernetes.CreateCluster(clusterRetry ?? fast));
        builder.Services.AddSingleton<IEventPublisher>(published);
        builder.Services.AddSingleton<IRepositorySource>(LocalGitSource.OverRoot(gitRoot));
        builder.Services.AddSingleton(new TriggerSettings { Render = new WorkflowRenderOptions { GitRoot = gitRoot } });
        builder.Services.AddTrigger(name => name == Configuration.KfciEnvironment.ProwJobs ? prowJobs : null);
        builder.AddFunction<Function>("trigger");
        var app = builder.Build();
        await app.StartAsync();

        var stack = new TriggerStack(app, kubernetes, pubSub, runs, published, gitRoot, logs);
        await pubSub.CreateTopicAsync(KfciTopics.ProwEvents);
        await pubSub.CreateSubscriptionAsync(new SubscriptionConfig
        {
            Id = "trigger-push",
            TopicId = KfciTopics.ProwEvents,
            Push = new PushConfig(pushEndpoint ?? stack.Endpoint),
            Redelivery = new RedeliveryPolicy(TimeSpan.Zero, TimeSpan.FromSeconds(1)),
        });
        return stack;
    }

    /// <summary>A new repository at <c>&lt;git root&gt;/org/repo</c>.</summary>
    public TestGitRepository CreateRepository(string org, string repo)
    {
        var repository = TestGitRepository.Create(Path.Combine(GitRoot, org, repo));
        _repositories.Add(repository);
        return repository;
    }

    /// <summary>Publishes one Prow event to <c>prow-events</c>; returns its message id.</summary>
    public async Task<string> PublishAsync(string json, IReadOnlyDictionary<string, string>? attributes = null) =>
        (await PubSub.PublishAsync(KfciTopics.ProwEvents, [new OutgoingMessage(Encoding.UTF8.GetBytes(json), attributes ?? new Dictionary<string, string>())]))[0];

    /// <summary>Polls the run until <paramref name="until"/> holds; throws with the last state seen when time is up.</summary>
    public async Task<RunRecord> WaitForRunAsync(string runId, Func<RunRecord, bool> until, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        RunRecord? last = null;
        while (watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(20)))
        {
            last = await Runs.GetAsync(runId, CancellationToken.None);
            if (last is not null && until(last))
            {
                return last;
            }

            await Task.Delay(50);
        }

        var warnings = string.Join(" | ", Logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => $"{e.Message} {e.Exception?.Message}").Take(5));
        throw new TimeoutException($"run {runId} is {(last is null ? "absent" : last.State.ToWire() + " errors=[" + string.Join("; ", last.Errors) + "]")}; warnings: {warnings}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await Kubernetes.DisposeAsync();
        foreach (var repository in _repositories)
        {
            repository.Dispose();
        }

        try
        {
            Directory.Delete(GitRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
