using System.Diagnostics;
using System.Globalization;
using Kfci.Cli.Commands;
using Kfci.Configuration;
using Kfci.Firestore;
using Kfci.Runs;
using Kfci.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Benchmarks;

/// <summary>
/// The dashboard's two heavy pages on the Firestore emulator: a job's grid of 200 builds × 1,000 tests and the flakiness
/// page over 5,000 runs. Per page: time to first byte and to the last byte over HTTP, and the Firestore documents its
/// queries read, against the same queries made straight on the store (the floor the page's rendering adds to).
/// </summary>
internal static class DashboardBenchmark
{
    public sealed record Settings(int Builds, int Tests, int FlakyRuns, int Samples)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(200, 1000, 5000, 10);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                settings = args[i] switch
                {
                    "--builds" => settings with { Builds = value },
                    "--tests" => settings with { Tests = value },
                    "--flaky-runs" => settings with { FlakyRuns = value },
                    "--samples" => settings with { Samples = value },
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
            return await MeasureAllAsync(emulators, settings);
        }
        finally
        {
            await emulators.DisposeAsync();
        }
    }

    private static async Task<int> MeasureAllAsync(EmulatorFixture emulators, Settings settings)
    {
        var project = EmulatorFixture.NewProjectId("dashbench");
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [KfciEnvironment.Project] = project,
            [emulators.Firestore.HostVariable] = emulators.Firestore.HostPort,
            [KfciEnvironment.ResultsDirectory] = Directory.CreateTempSubdirectory("kfci-dashbench-").FullName,
        };
        string? GetEnv(string name) => env.TryGetValue(name, out var value) ? value : null;
        var firestore = FirestoreClient.Create(project, getEnv: GetEnv);
        var runs = new CountingRunStore(new FirestoreRunStore(firestore));
        var tests = new CountingSummaryStore(new FirestoreTestSummaryStore(firestore));

        var seed = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        await SeedAsync(runs, tests, "grid-job", settings.Builds, settings.Tests, now.AddHours(-settings.Builds), TimeSpan.FromHours(1));
        await SeedAsync(runs, tests, "flaky-job", settings.FlakyRuns, 10, now.AddDays(-13), TimeSpan.FromDays(13) / settings.FlakyRuns);
        Console.WriteLine($"seeded {settings.Builds} builds × {settings.Tests} tests and {settings.FlakyRuns} runs × 10 tests in {seed.Elapsed.TotalSeconds:F0} s");

        var app = DashboardCommand.Build(GetEnv, 0, builder =>
        {
            builder.Services.AddSingleton<IRunStore>(runs);
            builder.Services.AddSingleton<ITestSummaryStore>(tests);
        });
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromMinutes(2) };
            // Beside each page: the same compact reads straight on the store (the floor), and the full summaries it read before.
            await MeasureAsync($"grid {settings.Builds}×{settings.Tests}", settings.Samples, runs, tests,
                () => PageAsync(http, $"/jobs/grid-job?builds={settings.Builds}"),
                async () =>
                {
                    var list = await runs.ListAsync(new RunQuery("grid-job", null, settings.Builds), default);
                    await tests.ResultsSinceAsync("grid-job", list.Min(r => r.CreatedAt), 10_000, 1_500_000, default);
                },
                async () =>
                {
                    var list = await runs.ListAsync(new RunQuery("grid-job", null, settings.Builds), default);
                    await tests.SinceAsync("grid-job", list.Min(r => r.CreatedAt), 5000, default);
                });
            await MeasureAsync($"flakiness {settings.FlakyRuns} runs", settings.Samples, runs, tests,
                () => PageAsync(http, "/flaky?job=flaky-job&days=14"),
                () => tests.ResultsSinceAsync("flaky-job", DateTimeOffset.UtcNow.AddDays(-14), 10_000, 1_500_000, default),
                () => tests.SinceAsync("flaky-job", DateTimeOffset.UtcNow.AddDays(-14), 5000, default));
        }
        finally
        {
            await app.DisposeAsync();
        }

        return 0;
    }

    private static async Task SeedAsync(IRunStore runs, ITestSummaryStore tests, string job, int count, int testCount, DateTimeOffset first, TimeSpan step)
    {
        var random = new Random(13);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            var created = first + (step * i);
            var runId = $"{job}-{i:D5}";
            var workflow = new WorkflowRecord { Name = $"{runId}-e2e", Namespace = "ns", EntryName = "e2e", EntryIndex = 0, Submitted = true, Phase = "Succeeded", StartedAt = created, FinishedAt = created.AddMinutes(20) };
            var run = new RunRecord
            {
                RunId = runId, JobName = job, BuildId = (1000 + i).ToString(CultureInfo.InvariantCulture), JobType = "periodic", JobSpec = "{}",
                Repo = "kubeflow/pipelines", BaseSha = $"{i:D8}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", State = RunState.Finished, Result = RunResults.Success,
                CreatedAt = created, UpdatedAt = created.AddMinutes(20), StartedAt = created, FinishedAt = created.AddMinutes(20), Workflows = [workflow],
            };
            await runs.CreateAsync(run, token);
            int draw;
            lock (random)
            {
                draw = random.Next(100);
            }

            // A few tests fail now and then (one in 20 builds), so the grid and the ranking have something to show.
            var cases = Enumerable.Range(0, testCount).Select(t => new TestCaseResult($"suite.test_{t:D4}",
                t % 50 == 0 && draw < 5 ? TestOutcomes.Fail : TestOutcomes.Pass, 1.5, t % 50 == 0 && draw < 5 ? "AssertionError: want 3 got 2" : null));
            await tests.WriteAsync([WorkflowTestSummary.For(run, workflow, cases)], token);
        });
    }

    private static async Task<(double FirstByteMs, double TotalMs)> PageAsync(HttpClient http, string path)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        var read = await body.ReadAsync(buffer);
        var firstByte = clock.Elapsed.TotalMilliseconds;
        while (read > 0)
        {
            read = await body.ReadAsync(buffer);
        }

        return (firstByte, clock.Elapsed.TotalMilliseconds);
    }

    private static async Task MeasureAsync(string name, int samples, CountingRunStore runs, CountingSummaryStore tests, Func<Task<(double, double)>> page, Func<Task> direct, Func<Task> full)
    {
        await page();
        await direct();
        await full();
        var pageTimes = new List<(double First, double Total)>();
        var directTimes = new List<double>();
        var fullTimes = new List<double>();
        long pageReads = 0, directReads = 0, fullReads = 0;
        for (var i = 0; i < samples; i++)
        {
            pageReads = await CountAsync(runs, tests, async () => pageTimes.Add(await page()));
            directReads = await CountAsync(runs, tests, async () => directTimes.Add(await TimeAsync(direct)));
            fullReads = await CountAsync(runs, tests, async () => fullTimes.Add(await TimeAsync(full)));
        }

        Console.WriteLine($"{name}: page first byte median {Median(pageTimes.Select(t => t.First)):F0} ms, last byte {Median(pageTimes.Select(t => t.Total)):F0} ms, {pageReads} documents read; "
            + $"the same reads straight from the store median {Median(directTimes):F0} ms, {directReads} documents; "
            + $"full summaries instead median {Median(fullTimes):F0} ms, {fullReads} documents ({samples} samples)");
    }

    private static async Task<long> CountAsync(CountingRunStore runs, CountingSummaryStore tests, Func<Task> work)
    {
        var before = runs.Documents + tests.Documents;
        await work();
        return runs.Documents + tests.Documents - before;
    }

    private static async Task<double> TimeAsync(Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Counts the run documents the stores' queries return (every run here is finished: no outcome reads).</summary>
    private sealed class CountingRunStore(IRunStore inner) : IRunStore
    {
        private long _documents;

        public long Documents => Interlocked.Read(ref _documents);

        public Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) => inner.GetAsync(runId, cancellationToken);

        public Task<(RunRecord Run, bool Created)> CreateAsync(RunRecord run, CancellationToken cancellationToken) => inner.CreateAsync(run, cancellationToken);

        public Task<RunRecord?> UpdateAsync(string runId, Func<RunRecord, RunRecord?> change, CancellationToken cancellationToken) => inner.UpdateAsync(runId, change, cancellationToken);

        public Task<RunRecord?> RecordWorkflowsAsync(string runId, IReadOnlyList<WorkflowRecord> finished, CancellationToken cancellationToken) => inner.RecordWorkflowsAsync(runId, finished, cancellationToken);

        public async Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken)
        {
            var list = await inner.ListAsync(query, cancellationToken);
            Interlocked.Add(ref _documents, list.Count);
            return list;
        }
    }

    /// <summary>Counts summary documents read: a workflow's summary is one document per 250 tests.</summary>
    private sealed class CountingSummaryStore(ITestSummaryStore inner) : ITestSummaryStore
    {
        private long _documents;

        public long Documents => Interlocked.Read(ref _documents);

        public Task WriteAsync(IReadOnlyList<WorkflowTestSummary> summaries, CancellationToken cancellationToken) => inner.WriteAsync(summaries, cancellationToken);

        public async Task<IReadOnlyList<WorkflowTestSummary>> ForRunAsync(string runId, CancellationToken cancellationToken) => Count(await inner.ForRunAsync(runId, cancellationToken));

        public async Task<IReadOnlyList<WorkflowTestSummary>> SinceAsync(string? jobName, DateTimeOffset since, int maxDocuments, CancellationToken cancellationToken) =>
            Count(await inner.SinceAsync(jobName, since, maxDocuments, cancellationToken));

        /// <summary>Counts one column per workflow summary (name lists, shared by builds and cached after the first read, are not counted).</summary>
        public async Task<TestResultsWindow> ResultsSinceAsync(string? jobName, DateTimeOffset since, int maxColumns, long maxCases, CancellationToken cancellationToken)
        {
            var window = await inner.ResultsSinceAsync(jobName, since, maxColumns, maxCases, cancellationToken);
            Interlocked.Add(ref _documents, window.Summaries.Count);
            return window;
        }

        private IReadOnlyList<WorkflowTestSummary> Count(IReadOnlyList<WorkflowTestSummary> summaries)
        {
            Interlocked.Add(ref _documents, summaries.Sum(s => Math.Max(1, (s.Tests.Count + TestSummaries.TestsPerDocument - 1) / TestSummaries.TestsPerDocument)));
            return summaries;
        }
    }
}
