using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using Kfci.Firestore;
using Kfci.Functions.Uploader;
using Kfci.Hosting;
using Kfci.Http;
using Kfci.Local;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Storage;
using Kfci.Testing.Gcs;
using Kfci.Testing.Kubernetes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Benchmarks;

/// <summary>
/// The Uploader's two numbers from issue 4. (1) A 200 MB step log plus 1,000 junit files: duration and the uploading
/// process's own peak resident set (VmHWM), measured in a child process so the fake servers' memory is not counted;
/// baseline: the same bytes written straight through the results store by the same child. (2) run.completed →
/// finished.json written, p50/p99, with the Firestore emulator, the fake GCS server and the fake Kubernetes API;
/// baseline: one bare write of a finished.json to the same store.
/// </summary>
internal static class UploaderBenchmark
{
    private const string Namespace = "kubeflow-test-infra";
    private const string Job = "kubeflow-bench";

    internal sealed record Settings(int Runs, int Latencies, int LogMegabytes, int JunitFiles)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(3, 60, 200, 1000);
            for (var i = 0; i < args.Length; i++)
            {
                settings = args[i] switch
                {
                    "--runs" => settings with { Runs = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--latencies" => settings with { Latencies = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--log-mb" => settings with { LogMegabytes = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    "--junit" => settings with { JunitFiles = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return settings;
        }
    }

    public static async Task<int> RunAsync(Settings settings)
    {
        await BigUploadAsync(settings);
        await LatencyAsync(settings);
        return 0;
    }

    /// <summary>The child process: one mode, one measurement, one line on stdout.</summary>
    public static async Task<int> ChildAsync(string[] args)
    {
        var (mode, cluster, gcsHost, bucket, nfs, buildId) = (args[0], args[1], args[2], args[3], args[4], args[5]);
        var store = GcsResultsStore.Create(bucket, getEnv: name => name == "STORAGE_EMULATOR_HOST" ? gcsHost : null);
        var before = ProcStatusKb("VmRSS");
        var clock = Stopwatch.StartNew();
        if (mode == "uploader")
        {
            var run = BigRun(buildId);
            var runs = new MemoryRunStore(run);
            var settings = new UploaderSettings { NfsRoot = nfs };
            var k8s = Kubernetes.KubernetesWorkflowCluster.Create(new k8s.KubernetesClientConfiguration { Host = cluster });
            var uploader = new ResultsUploader(store, k8s, settings, NullLogger<ResultsUploader>.Instance);
            var function = new Function(runs, new DiscardingTestSummaryStore(), store, new DiscardingPublisher(), uploader, new Kfci.Functions.Uploader.GitHub.NoCommitStatusReporter(), settings, TimeProvider.System, NullLogger<Function>.Instance);
            var outcome = await function.HandleAsync(Event(), Completed(run), CancellationToken.None);
            if (outcome.Kind != OutcomeKind.Success)
            {
                await Console.Error.WriteLineAsync($"uploader failed: {outcome.Reason}");
                return 1;
            }
        }
        else
        {
            // The floor: the same bytes through the same store, no cluster, no junit parsing, no build log.
            var dir = $"logs/{Job}/{buildId}";
            var log = await OpenLogFromClusterAsync(cluster);
            await using (log)
            {
                await store.WriteAsync($"{dir}/artifacts/logs/big/main.log", log, null, CancellationToken.None);
            }

            await Parallel.ForEachAsync(Directory.EnumerateFiles(Path.Combine(nfs, "big", "output", "artifacts")), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (file, token) =>
            {
                await using var content = File.OpenRead(file);
                await store.WriteAsync($"{dir}/artifacts/{Path.GetFileName(file)}", content, null, token);
            });
        }

        await Console.Out.WriteLineAsync(FormattableString.Invariant($"seconds={clock.Elapsed.TotalSeconds:0.00} rss_before_kb={before} peak_kb={ProcStatusKb("VmHWM")}"));
        return 0;
    }

    private static async Task BigUploadAsync(Settings settings)
    {
        await using var gcs = await FakeGcsServer.StartAsync("bench");
        await using var cluster = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { LogChunkBytes = 64 * 1024 });
        cluster.CreateNamespace(Namespace);
        var nfs = Directory.CreateTempSubdirectory("kfci-bench-nfs-").FullName;
        try
        {
            var artifacts = Directory.CreateDirectory(Path.Combine(nfs, "big", "output", "artifacts")).FullName;
            for (var i = 0; i < settings.JunitFiles; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(artifacts, $"junit_{i:0000}.xml"), $"""<testsuite name="s{i}" tests="3" failures="0"><testcase name="a"/><testcase name="b"/><testcase name="c"/></testsuite>""");
            }

            AddBigWorkflow(cluster, GeneratedLog(settings.LogMegabytes * 1024L * 1024L));
            Console.WriteLine($"upload of a {settings.LogMegabytes} MB step log + {settings.JunitFiles} junit files to the fake GCS server (median of {settings.Runs} child processes)");
            var host = $"{gcs.BaseAddress.Host}:{gcs.BaseAddress.Port}";
            foreach (var mode in new[] { "baseline", "uploader" })
            {
                var samples = new List<(double Seconds, double PeakMb)>();
                for (var run = 0; run < settings.Runs; run++)
                {
                    var buildId = (1000 + run).ToString(CultureInfo.InvariantCulture);
                    var line = await RunChildAsync(mode, cluster.BaseAddress.ToString(), host, "bench", nfs, buildId);
                    samples.Add((Field(line, "seconds"), Field(line, "peak_kb") / 1024));
                }

                Console.WriteLine($"  {mode,-9} duration {Median(samples.Select(s => s.Seconds)),7:0.00} s   peak RSS {Median(samples.Select(s => s.PeakMb)),6:0} MB (max {samples.Max(s => s.PeakMb):0})");
            }
        }
        finally
        {
            Directory.Delete(nfs, recursive: true);
        }
    }

    private static async Task LatencyAsync(Settings settings)
    {
        var logs = Path.Combine(Path.GetTempPath(), $"kfci-bench-emulators-{Environment.ProcessId}");
        await using var firestore = await Emulator.StartAsync(EmulatorKind.Firestore, logs);
        await using var gcs = await FakeGcsServer.StartAsync("latency");
        await using var cluster = await FakeKubernetesServer.StartAsync();
        cluster.CreateNamespace(Namespace);
        var client = FirestoreClient.Create("bench-" + Guid.NewGuid().ToString("N")[..8], getEnv: name => name == firestore.HostVariable ? firestore.HostPort : null);
        var runs = new FirestoreRunStore(client);
        var store = new TimingStore(GcsResultsStore.Create("latency", getEnv: name => name == "STORAGE_EMULATOR_HOST" ? $"{gcs.BaseAddress.Host}:{gcs.BaseAddress.Port}" : null));
        var uploaderSettings = new UploaderSettings();
        var uploader = new ResultsUploader(store, cluster.CreateCluster(), uploaderSettings, NullLogger<ResultsUploader>.Instance);
        var function = new Function(runs, new FirestoreTestSummaryStore(client), store, new DiscardingPublisher(), uploader, new Kfci.Functions.Uploader.GitHub.NoCommitStatusReporter(), uploaderSettings, TimeProvider.System, NullLogger<Function>.Instance);

        var toFinished = new List<double>();
        var baseline = new List<double>();
        for (var i = 0; i < settings.Latencies + 5; i++)
        {
            var run = await SmallRunAsync(cluster, runs, i);
            var startedAt = store.Now;
            var outcome = await function.HandleAsync(Event(), Completed(run), CancellationToken.None);
            var finishedAt = store.TakeFinishedWrittenAt() ?? throw new InvalidOperationException($"no finished.json: {outcome.Reason}");
            var bare = Stopwatch.StartNew();
            using (var content = new MemoryStream("""{"timestamp":1,"passed":true,"result":"SUCCESS"}"""u8.ToArray()))
            {
                await store.WriteAsync($"baseline/{i}/finished.json", content, new ObjectWriteOptions { CreateOnly = true }, CancellationToken.None);
            }

            if (i >= 5)
            {
                // The first few warm up the JIT and connections.
                toFinished.Add((finishedAt - startedAt).TotalMilliseconds);
                baseline.Add(bare.Elapsed.TotalMilliseconds);
            }
        }

        toFinished.Sort();
        baseline.Sort();
        Console.WriteLine($"run.completed → finished.json written ({settings.Latencies} runs, 2 workflows × 3 steps each; Firestore emulator, fake GCS, fake Kubernetes API)");
        Console.WriteLine($"  uploader  p50 {Percentile(toFinished, 50),7:0.0} ms   p99 {Percentile(toFinished, 99),7:0.0} ms");
        Console.WriteLine($"  baseline  p50 {Percentile(baseline, 50),7:0.0} ms   p99 {Percentile(baseline, 99),7:0.0} ms   (one bare create-only write of finished.json)");
        Console.WriteLine($"  ratio p50 {Percentile(toFinished, 50) / Percentile(baseline, 50):0.0}x the bare write; the old tool polled every 30 s");
    }

    private static async Task<RunRecord> SmallRunAsync(FakeKubernetesServer cluster, FirestoreRunStore runs, int index)
    {
        var buildId = (5000 + index).ToString(CultureInfo.InvariantCulture);
        var spec = new ProwJobSpec(JobType.Periodic, Job, buildId, null, []);
        var workflows = new List<WorkflowRecord>();
        for (var w = 0; w < 2; w++)
        {
            var name = $"lat-{index}-{w}";
            AddWorkflow(cluster, name, Enumerable.Range(0, 3).Select(s => ($"step{s}", $"output of step {s}\n")).ToList());
            workflows.Add(new WorkflowRecord { Name = name, Namespace = Namespace, EntryName = name, EntryIndex = w, Submitted = true, Phase = "Succeeded" });
        }

        var now = DateTimeOffset.UtcNow;
        var run = new RunRecord
        {
            RunId = spec.Run.RunId,
            JobName = Job,
            BuildId = buildId,
            JobType = "periodic",
            JobSpec = spec.ToJson(),
            State = RunState.Completed,
            CreatedAt = now,
            UpdatedAt = now,
            StartedAt = now,
            CompletedAt = now,
            Workflows = workflows,
        };
        return (await runs.CreateAsync(run, CancellationToken.None)).Run;
    }

    private static RunRecord BigRun(string buildId)
    {
        var spec = new ProwJobSpec(JobType.Periodic, Job, buildId, null, []);
        var now = DateTimeOffset.UtcNow;
        return new RunRecord
        {
            RunId = spec.Run.RunId,
            JobName = Job,
            BuildId = buildId,
            JobType = "periodic",
            JobSpec = spec.ToJson(),
            State = RunState.Completed,
            CreatedAt = now,
            UpdatedAt = now,
            Workflows = [new WorkflowRecord { Name = "big", Namespace = Namespace, EntryName = "big", EntryIndex = 0, Submitted = true, Phase = "Succeeded" }],
        };
    }

    private static void AddBigWorkflow(FakeKubernetesServer cluster, string log) => AddWorkflow(cluster, "big", [("main", log)]);

    private static void AddWorkflow(FakeKubernetesServer cluster, string name, List<(string Step, string Log)> steps)
    {
        var nodes = new JsonObject();
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        for (var i = 0; i < steps.Count; i++)
        {
            var nodeName = $"{name}[{i}].{steps[i].Step}";
            var id = $"{name}-{WorkflowSteps.Fnv32a(nodeName)}";
            nodes[id] = new JsonObject
            {
                ["id"] = id, ["name"] = nodeName, ["displayName"] = steps[i].Step, ["type"] = "Pod", ["templateName"] = steps[i].Step,
                ["phase"] = "Succeeded", ["startedAt"] = start.AddMinutes(i).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["finishedAt"] = start.AddMinutes(i + 1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            };
            cluster.AddPod(Namespace, WorkflowSteps.PodName(name, nodeName, steps[i].Step), new Dictionary<string, string> { ["main"] = steps[i].Log });
        }

        cluster.Create(FakeResource.Workflows, Namespace, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject { ["entrypoint"] = "main" },
            ["status"] = new JsonObject { ["phase"] = "Succeeded", ["nodes"] = nodes },
        });
    }

    private static async Task<Stream> OpenLogFromClusterAsync(string cluster)
    {
        var k8s = Kubernetes.KubernetesWorkflowCluster.Create(new k8s.KubernetesClientConfiguration { Host = cluster });
        var pod = WorkflowSteps.PodName("big", "big[0].main", "main");
        return await k8s.OpenPodLogAsync(Namespace, pod, new Kubernetes.PodLogOptions { Container = "main" }, CancellationToken.None);
    }

    private static string GeneratedLog(long bytes)
    {
        var builder = new StringBuilder((int)bytes);
        for (var line = 0L; builder.Length < bytes - 100; line++)
        {
            builder.Append(CultureInfo.InvariantCulture, $"2026-11-22T05:00:00Z step main line {line:000000000} lorem ipsum dolor sit amet consectetur\n");
        }

        return builder.ToString();
    }

    private static CloudEvent Event() => new() { Id = Guid.NewGuid().ToString("N"), Source = new Uri("bench", UriKind.Relative), Type = MessagePublishedData.CloudEventType };

    private static MessagePublishedData Completed(RunRecord run)
    {
        var message = RunEvent.For(RunEventTypes.Completed, run).ToMessage();
        return new MessagePublishedData(new PubSubMessage { Data = message.Data, Attributes = message.Attributes, MessageId = Guid.NewGuid().ToString("N") }, "bench");
    }

    private static async Task<string> RunChildAsync(params string[] args)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(UploaderBenchmark).Assembly.Location);
        }

        start.ArgumentList.Add("uploader-child");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"child exited {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }

    private static double Field(string line, string name)
    {
        var start = line.IndexOf(name + "=", StringComparison.Ordinal) + name.Length + 1;
        var end = line.IndexOfAny([' ', '\n', '\r'], start);
        return double.Parse(line[start..(end < 0 ? line.Length : end)], CultureInfo.InvariantCulture);
    }

    private static long ProcStatusKb(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static double Percentile(List<double> sorted, int p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];

    /// <summary>The in-memory run's summaries go nowhere: this benchmark measures the upload, not Firestore.</summary>
    private sealed class DiscardingTestSummaryStore : ITestSummaryStore
    {
        public Task WriteAsync(IReadOnlyList<WorkflowTestSummary> summaries, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<WorkflowTestSummary>> ForRunAsync(string runId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<WorkflowTestSummary>>([]);

        public Task<IReadOnlyList<WorkflowTestSummary>> SinceAsync(string? jobName, DateTimeOffset since, int maxDocuments, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<WorkflowTestSummary>>([]);

        public Task<TestResultsWindow> ResultsSinceAsync(string? jobName, DateTimeOffset since, int maxColumns, long maxCases, CancellationToken cancellationToken) =>
            Task.FromResult(new TestResultsWindow([], Truncated: false));
    }

    private sealed class DiscardingPublisher : IEventPublisher
    {
        public Task<string> PublishAsync(string topicId, OutgoingMessage message, CancellationToken cancellationToken = default) => Task.FromResult("1");
    }

    /// <summary>A run store holding one run, for the child process (Firestore is not what it measures).</summary>
    private sealed class MemoryRunStore(RunRecord run) : IRunStore
    {
        private RunRecord _run = run;

        public Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) => Task.FromResult<RunRecord?>(runId == _run.RunId ? _run : null);

        public Task<(RunRecord Run, bool Created)> CreateAsync(RunRecord run, CancellationToken cancellationToken) => Task.FromResult((_run, false));

        public Task<RunRecord?> UpdateAsync(string runId, Func<RunRecord, RunRecord?> change, CancellationToken cancellationToken)
        {
            _run = change(_run) ?? _run;
            return Task.FromResult<RunRecord?>(_run);
        }

        public Task<RunRecord?> RecordWorkflowsAsync(string runId, IReadOnlyList<WorkflowRecord> finished, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the Uploader records no workflow outcomes");

        public Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<RunRecord>>([_run]);
    }

    /// <summary>Notes when a finished.json write completed, on its own clock (<see cref="Now"/>).</summary>
    private sealed class TimingStore(IResultsStore inner) : IResultsStore
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan? _finished;

        public TimeSpan Now => _clock.Elapsed;

        public TimeSpan? TakeFinishedWrittenAt()
        {
            var finished = _finished;
            _finished = null;
            return finished;
        }

        public async Task<StoredObject?> WriteAsync(string path, Stream content, ObjectWriteOptions? options, CancellationToken cancellationToken)
        {
            var stored = await inner.WriteAsync(path, content, options, cancellationToken);
            if (path.EndsWith("/finished.json", StringComparison.Ordinal) && !path.StartsWith("baseline/", StringComparison.Ordinal))
            {
                _finished = _clock.Elapsed;
            }

            return stored;
        }

        public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken) => inner.OpenReadAsync(path, cancellationToken);

        public Task<StoredObject?> GetAsync(string path, CancellationToken cancellationToken) => inner.GetAsync(path, cancellationToken);

        public IAsyncEnumerable<ResultsListEntry> ListAsync(string prefix, string? delimiter, CancellationToken cancellationToken) => inner.ListAsync(prefix, delimiter, cancellationToken);

        public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken) => inner.DeleteAsync(path, cancellationToken);

        public string Describe(string path) => inner.Describe(path);
    }
}
