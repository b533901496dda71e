using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using Kfci.Argo;
using Kfci.Firestore;
using Kfci.Functions.Watcher;
using Kfci.Hosting;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Testing.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Benchmarks;

/// <summary>
/// The Watcher on the real emulators and the fake Kubernetes API: time from a workflow's last phase change to its run's
/// <c>run.completed</c> accepted by Pub/Sub — through the emulator's push subscription (the event path as deployed),
/// and with the handler called directly (the baseline: what the function itself costs) — and the duration of a
/// reconcile tick over many running runs, against a tick over none.
/// </summary>
internal static class WatcherBenchmark
{
    private const string Namespace = "kubeflow-test-infra";

    internal sealed record Settings(int Samples, int Runs, int Ticks)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(50, 500, 5);
            for (var i = 0; i < args.Length; i++)
            {
                settings = args[i] switch
                {
                    "--samples" => settings with { Samples = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--runs" => settings with { Runs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--ticks" => settings with { Ticks = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return settings;
        }
    }

    public static async Task<int> RunAsync(Settings settings)
    {
        var emulators = new EmulatorFixture();
        await emulators.InitializeAsync();
        try
        {
            var (push, direct) = await MeasureEventPathAsync(emulators, settings.Samples);
            Console.WriteLine($"phase change → run.completed published, {settings.Samples} runs each");
            Report("event path (emulator push)", push, direct);
            Report("handler called directly", direct, direct);
            var empty = await MeasureTicksAsync(emulators, 0, settings.Ticks);
            var full = await MeasureTicksAsync(emulators, settings.Runs, settings.Ticks);
            Console.WriteLine($"reconcile tick, {settings.Ticks} ticks each");
            Report($"tick over {settings.Runs} running runs", full, empty);
            Report("tick over 0 runs", empty, empty);
            return 0;
        }
        finally
        {
            await emulators.DisposeAsync();
        }
    }

    private static async Task<(List<double> Push, List<double> Direct)> MeasureEventPathAsync(EmulatorFixture emulators, int samples)
    {
        await using var env = await BenchEnvironment.StartAsync(emulators);
        var builder = FunctionHost.CreateBuilder(new FunctionHostOptions { Port = 0, BindAddress = IPAddress.Loopback });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(env.Function);
        builder.AddFunction<Function>("watcher");
        await using var app = builder.Build();
        await app.StartAsync();
        await env.PubSub.CreateTopicAsync(KfciTopics.ArgoEvents);
        await env.PubSub.CreateSubscriptionAsync(new SubscriptionConfig
        {
            Id = "argo-events-to-watcher",
            TopicId = KfciTopics.ArgoEvents,
            Push = new PushConfig(new Uri(app.Urls.Single().TrimEnd('/') + "/")),
        });
        try
        {
            var push = new List<double>();
            var direct = new List<double>();
            for (var i = 0; i < samples + 2; i++)
            {
                // The first two of each are warm-up (JIT, connections) and not counted.
                var viaPush = await env.MeasureAsync($"push-{i}", entry => env.PubSub.PublishAsync(KfciTopics.ArgoEvents, [new OutgoingMessage(entry)]));
                var viaCall = await env.MeasureAsync($"call-{i}", entry => env.Function.HandleAsync(Event(), new MessagePublishedData(new PubSubMessage { MessageId = $"m-{i}", Data = entry }, null), CancellationToken.None));
                if (i >= 2)
                {
                    push.Add(viaPush);
                    direct.Add(viaCall);
                }
            }

            return (push, direct);
        }
        finally
        {
            await env.PubSub.DeleteSubscriptionAsync("argo-events-to-watcher");
        }
    }

    private static async Task<List<double>> MeasureTicksAsync(EmulatorFixture emulators, int runs, int ticks)
    {
        await using var env = await BenchEnvironment.StartAsync(emulators);
        await Parallel.ForEachAsync(Enumerable.Range(0, runs), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await env.AddRunAsync($"tick-{i}"));
        var durations = new List<double>();
        for (var i = 0; i < ticks + 1; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var outcome = await env.Function.HandleAsync(Event(), new MessagePublishedData(new PubSubMessage { MessageId = $"tick-{i}" }, null), CancellationToken.None);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (outcome.Kind != OutcomeKind.Success)
            {
                throw new InvalidOperationException($"tick failed: {outcome.Reason}");
            }

            if (i > 0)
            {
                durations.Add(elapsed);
            }
        }

        return durations;
    }

    private static CloudEvent Event() => new() { Id = Guid.NewGuid().ToString("N"), Source = new Uri("//pubsub.googleapis.com/projects/bench/topics/t", UriKind.RelativeOrAbsolute), Type = MessagePublishedData.CloudEventType };

    private static void Report(string name, List<double> samples, List<double> baseline)
    {
        var p50 = Percentile(samples, 0.50);
        Console.WriteLine($"  {name,-32} p50 {p50,8:0.0} ms   p99 {Percentile(samples, 0.99),8:0.0} ms   ×{p50 / Percentile(baseline, 0.50),6:0.00} of baseline");
    }

    private static double Percentile(List<double> samples, double p)
    {
        var sorted = samples.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    /// <summary>A fresh project on the emulators, a fake cluster and the Watcher wired to them, with publish times recorded per run.</summary>
    private sealed class BenchEnvironment : IAsyncDisposable
    {
        private readonly FakeKubernetesServer _kube;
        private readonly BatchingEventPublisher _publisher;
        private readonly TimingPublisher _timing;
        private readonly FirestoreRunStore _runs;

        private BenchEnvironment(FakeKubernetesServer kube, FirestoreClient firestore, PubSubClient pubSub)
        {
            _kube = kube;
            _runs = new FirestoreRunStore(firestore);
            PubSub = pubSub;
            _publisher = new BatchingEventPublisher(pubSub);
            _timing = new TimingPublisher(_publisher);
            Function = new Function(_runs, kube.CreateCluster(), _timing, TimeProvider.System, new WatcherSettings { Namespace = Namespace }, NullLogger<Function>.Instance);
        }

        public PubSubClient PubSub { get; }

        public Function Function { get; }

        public static async Task<BenchEnvironment> StartAsync(EmulatorFixture emulators)
        {
            var project = EmulatorFixture.NewProjectId("bench");
            var kube = await FakeKubernetesServer.StartAsync();
            kube.CreateNamespace(Namespace);
            var firestore = FirestoreClient.Create(project, getEnv: name => name == emulators.Firestore.HostVariable ? emulators.Firestore.HostPort : null);
            var pubSub = PubSubClient.Create(project, getEnv: name => name == emulators.PubSub.HostVariable ? emulators.PubSub.HostPort : null);
            await pubSub.CreateTopicAsync(KfciTopics.RunCompleted);
            return new BenchEnvironment(kube, firestore, pubSub);
        }

        public async Task AddRunAsync(string runId)
        {
            var now = DateTimeOffset.UtcNow;
            await _runs.CreateAsync(new RunRecord
            {
                RunId = runId,
                JobName = "kubeflow-presubmit",
                BuildId = runId,
                JobType = "presubmit",
                JobSpec = "{}",
                State = RunState.Submitted,
                CreatedAt = now,
                UpdatedAt = now,
                StartedAt = now,
                Workflows = [new WorkflowRecord { Name = $"{runId}-e2e", Namespace = Namespace, EntryName = "e2e", EntryIndex = 0, Submitted = true }],
            }, CancellationToken.None);
            _kube.Create(FakeResource.Workflows, Namespace, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = $"{runId}-e2e",
                    ["labels"] = new JsonObject { [WorkflowLabels.Managed] = "true", [WorkflowLabels.RunId] = runId },
                },
                ["spec"] = new JsonObject { ["entrypoint"] = "e2e" },
            });
            _kube.SetWorkflowPhase(Namespace, $"{runId}-e2e", WorkflowPhases.Running);
        }

        /// <summary>Milliseconds from the workflow's last phase change to its run.completed accepted by Pub/Sub.</summary>
        public async Task<double> MeasureAsync(string runId, Func<byte[], Task> deliver)
        {
            await AddRunAsync(runId);
            var published = _timing.Expect(runId);
            var start = Stopwatch.GetTimestamp();
            _kube.SetWorkflowPhase(Namespace, $"{runId}-e2e", WorkflowPhases.Succeeded);
            var entry = WorkflowEventEntry.Create(Namespace, $"{runId}-e2e", WorkflowEventEntry.Succeeded, "Workflow completed", DateTimeOffset.UtcNow);
            await deliver(Encoding.UTF8.GetBytes(entry.ToJsonString()));
            var end = await published.WaitAsync(TimeSpan.FromSeconds(60));
            return Stopwatch.GetElapsedTime(start, end).TotalMilliseconds;
        }

        public async ValueTask DisposeAsync()
        {
            await _publisher.DisposeAsync();
            await _kube.DisposeAsync();
        }
    }

    /// <summary>Passes publishes on and notes when each run's message was accepted.</summary>
    private sealed class TimingPublisher(IEventPublisher inner) : IEventPublisher
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _waiting = new(StringComparer.Ordinal);

        public Task<long> Expect(string runId) => _waiting.GetOrAdd(runId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public async Task<string> PublishAsync(string topicId, OutgoingMessage message, CancellationToken cancellationToken = default)
        {
            var id = await inner.PublishAsync(topicId, message, cancellationToken);
            var now = Stopwatch.GetTimestamp();
            if (message.Attributes.TryGetValue(RunEvent.RunIdAttribute, out var runId) && _waiting.TryGetValue(runId, out var waiter))
            {
                waiter.TrySetResult(now);
            }

            return id;
        }
    }
}
