using System.Net;
using System.Text.Json.Nodes;
using Kfci.Argo;
using Kfci.Firestore;
using Kfci.Functions.Watcher;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Tests.Infra;
using Kfci.Testing;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Tests.Firestore;
using Kfci.Tests.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Watcher;

/// <summary>
/// The Watcher behind the real host, on the Firestore and Pub/Sub emulators (each test its own projects) and the fake
/// Kubernetes API; <c>run.completed</c> lands on a pull subscription the test reads.
/// </summary>
internal sealed class WatcherHarness : IAsyncDisposable
{
    public const string Namespace = "kubeflow-test-infra";
    private const string CompletedSubscription = "completed-check";

    private WatcherHarness(FakeKubernetesServer kube, FirestoreClient firestore, PubSubClient pubSub, FailingPublishes failures, BatchingEventPublisher publisher, WatcherSettings settings)
    {
        Kube = kube;
        Firestore = firestore;
        Runs = new FirestoreRunStore(firestore);
        FlakyRuns = new FlakyRunStore(Runs);
        PubSub = pubSub;
        PublishFailures = failures;
        Publisher = publisher;
        Settings = settings;
    }

    public FakeKubernetesServer Kube { get; }

    public FirestoreClient Firestore { get; }

    public FirestoreRunStore Runs { get; }

    /// <summary>What the function uses: <see cref="Runs"/>, with failures on demand.</summary>
    public FlakyRunStore FlakyRuns { get; }

    public PubSubClient PubSub { get; }

    public FailingPublishes PublishFailures { get; }

    public BatchingEventPublisher Publisher { get; }

    public WatcherSettings Settings { get; }

    public FunctionTestHost Host { get; private set; } = null!;

    /// <summary>Kubernetes calls retry once, quickly: a fault that outlasts that reaches the function.</summary>
    public static RetryOptions FastRetry { get; } = new() { MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) };

    public static async Task<WatcherHarness> StartAsync(EmulatorFixture emulators, WatcherSettings? settings = null, PublisherBatchOptions? batching = null)
    {
        var kube = await FakeKubernetesServer.StartAsync(TerraformRbac.Options("watcher", Namespace));
        kube.CreateNamespace(Namespace);
        var failures = new FailingPublishes();
        var pubSub = PubSubTestKit.NewClient(emulators, failures, RetryOptions.None);
        await pubSub.CreateTopicAsync(KfciTopics.RunCompleted);
        await pubSub.CreateSubscriptionAsync(new SubscriptionConfig { Id = CompletedSubscription, TopicId = KfciTopics.RunCompleted });
        var harness = new WatcherHarness(
            kube, EmulatorFirestore.NewClient(emulators, "watch"), pubSub, failures, new BatchingEventPublisher(pubSub, batching), settings ?? new WatcherSettings { Namespace = Namespace });
        harness.Host = await FunctionTestHost.StartAsync<Function>(configure: builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug); // the ignored-event lines are debug lines
            builder.Services.AddSingleton<IRunStore>(harness.FlakyRuns);
            builder.Services.AddSingleton<IWorkflowCluster>(kube.CreateCluster(FastRetry));
            builder.Services.AddSingleton<IEventPublisher>(harness.Publisher);
            builder.Services.AddSingleton(harness.Settings);
        });
        return harness;
    }

    /// <summary>Stores the run and creates its workflows in the cluster, Running, labelled as the Trigger labels them.</summary>
    public async Task<RunRecord> AddRunAsync(RunRecord run)
    {
        await Runs.CreateAsync(run, CancellationToken.None);
        foreach (var workflow in run.Workflows)
        {
            CreateWorkflow(workflow.Name, run.RunId);
            Kube.SetWorkflowPhase(Namespace, workflow.Name, WorkflowPhases.Running);
        }

        return run;
    }

    public JsonObject CreateWorkflow(string name, string? runId)
    {
        var labels = new JsonObject();
        if (runId is not null)
        {
            labels[WorkflowLabels.Managed] = "true";
            labels[WorkflowLabels.RunId] = runId;
        }

        return Kube.Create(FakeResource.Workflows, Namespace, new JsonObject
        {
            ["apiVersion"] = "argoproj.io/v1alpha1",
            ["kind"] = "Workflow",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels },
            ["spec"] = new JsonObject { ["entrypoint"] = "e2e" },
        });
    }

    /// <summary>Finishes the workflow in the fake as Argo would, with a failed Pod node when it did not succeed.</summary>
    public void Finish(string workflow, string phase, string? message = null)
    {
        if (phase != WorkflowPhases.Succeeded)
        {
            Kube.Update(FakeResource.Workflows, Namespace, workflow, w => w["status"]!["nodes"] = new JsonObject
            {
                [workflow] = new JsonObject { ["id"] = workflow, ["name"] = workflow, ["displayName"] = workflow, ["type"] = "DAG", ["phase"] = phase },
                [$"{workflow}-1"] = new JsonObject
                {
                    ["id"] = $"{workflow}-1", ["name"] = $"{workflow}.test", ["displayName"] = "test", ["type"] = "Pod", ["phase"] = phase,
                    ["message"] = "failed with exit code 2", ["startedAt"] = "2026-11-22T05:00:01Z",
                },
            });
        }

        Kube.SetWorkflowPhase(Namespace, workflow, phase, message);
    }

    public static string ReasonFor(string phase) => phase == WorkflowPhases.Succeeded ? WorkflowEventEntry.Succeeded : WorkflowEventEntry.Failed;

    /// <summary>Pushes Argo's completion event for the workflow as the log sink would.</summary>
    public Task<HttpResponseMessage> DeliverEventAsync(string workflow, string reason, string messageId = "event-1") =>
        Host.PushAsync(WorkflowEventEntry.Create(Namespace, workflow, reason, "Workflow completed", DateTimeOffset.UtcNow).ToJsonString(), messageId: messageId);

    /// <summary>A Cloud Scheduler tick (its body is whatever the job sends).</summary>
    public Task<HttpResponseMessage> TickAsync(string body = "") => Host.PushAsync(body, messageId: $"tick-{Guid.NewGuid():N}");

    public async Task<RunRecord> RunAsync(string runId) => (await Runs.GetAsync(runId, CancellationToken.None))!;

    /// <summary>Every run.completed published so far (pulls until the subscription is drained twice in a row).</summary>
    public async Task<List<RunEvent>> CompletedEventsAsync(int atLeast = 0)
    {
        var events = new List<RunEvent>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var emptyPulls = 0;
        while (DateTime.UtcNow < deadline && (events.Count < atLeast || emptyPulls < 2))
        {
            var batch = await PubSub.PullAsync(CompletedSubscription, 100);
            if (batch.Count == 0)
            {
                emptyPulls++;
                await Task.Delay(50);
                continue;
            }

            emptyPulls = 0;
            events.AddRange(batch.Select(m => RunEvent.Parse(m.Data, RunEventTypes.Completed)));
            await PubSub.AcknowledgeAsync(CompletedSubscription, batch.Select(m => m.AckId));
        }

        return events;
    }

    public static void AssertStatus(HttpStatusCode expected, HttpResponseMessage response, string? bodyContains = null)
    {
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.StatusCode == expected, $"expected {expected}, got {response.StatusCode}: {body}");
        if (bodyContains is not null)
        {
            Assert.Contains(bodyContains, body, StringComparison.Ordinal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Publisher.DisposeAsync();
        await Kube.DisposeAsync();
    }
}

/// <summary>Fails the next <see cref="FailNext"/> publish requests with 503, as an unavailable Pub/Sub would.</summary>
internal sealed class FailingPublishes : DelegatingHandler
{
    private int _remaining;

    public void FailNext(int count) => Volatile.Write(ref _remaining, count);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.RequestUri?.AbsolutePath.EndsWith(":publish", StringComparison.Ordinal) == true && Interlocked.Decrement(ref _remaining) >= 0
            ? Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("""{"error":{"code":503,"status":"UNAVAILABLE","message":"injected"}}""") })
            : base.SendAsync(request, cancellationToken);
}

/// <summary>The real store, except that the next <see cref="FailNextUpdates"/> writes (updates, recorded outcomes) fail as a Firestore outage (503 after retries) would.</summary>
internal sealed class FlakyRunStore(IRunStore inner) : IRunStore
{
    private int _failures;

    public void FailNextUpdates(int count) => Volatile.Write(ref _failures, count);

    public Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) => inner.GetAsync(runId, cancellationToken);

    public Task<(RunRecord Run, bool Created)> CreateAsync(RunRecord run, CancellationToken cancellationToken) => inner.CreateAsync(run, cancellationToken);

    public Task<RunRecord?> UpdateAsync(string runId, Func<RunRecord, RunRecord?> change, CancellationToken cancellationToken) =>
        Interlocked.Decrement(ref _failures) >= 0
            ? Task.FromException<RunRecord?>(new ApiException(HttpStatusCode.ServiceUnavailable, "UNAVAILABLE", "injected: Firestore unavailable"))
            : inner.UpdateAsync(runId, change, cancellationToken);

    public Task<RunRecord?> RecordWorkflowsAsync(string runId, IReadOnlyList<WorkflowRecord> finished, CancellationToken cancellationToken) =>
        Interlocked.Decrement(ref _failures) >= 0
            ? Task.FromException<RunRecord?>(new ApiException(HttpStatusCode.ServiceUnavailable, "UNAVAILABLE", "injected: Firestore unavailable"))
            : inner.RecordWorkflowsAsync(runId, finished, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);
}
