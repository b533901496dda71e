using Kfci.Cli.Commands;
using Kfci.Configuration;
using Kfci.Firestore;
using Kfci.Janitor;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Tests.Firestore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Kfci.Tests.Dashboard;

/// <summary>
/// The dashboard as <c>kfci dashboard</c> wires it, over a Firestore emulator project of its own and a local results
/// directory, served in memory (<see cref="StartAsync"/>) or on a loopback port for a browser (<see cref="StartOnPortAsync"/>).
/// </summary>
internal sealed class DashboardHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = DateTimeOffset.UtcNow.AddDays(-3);

    private readonly WebApplication _app;

    private DashboardHarness(WebApplication app, FirestoreClient firestore, string results)
    {
        _app = app;
        Firestore = firestore;
        ResultsDirectory = results;
        Runs = new FirestoreRunStore(firestore);
        Tests = new FirestoreTestSummaryStore(firestore);
    }

    public FirestoreClient Firestore { get; }

    public IRunStore Runs { get; }

    public ITestSummaryStore Tests { get; }

    public string ResultsDirectory { get; }

    public HttpClient Client { get; private set; } = null!;

    /// <summary>The base address a browser can open (port mode only).</summary>
    public string Url => _app.Urls.First();

    public static Task<DashboardHarness> StartAsync(EmulatorFixture emulators) => StartCoreAsync(emulators, inMemory: true);

    public static Task<DashboardHarness> StartOnPortAsync(EmulatorFixture emulators) => StartCoreAsync(emulators, inMemory: false);

    private static async Task<DashboardHarness> StartCoreAsync(EmulatorFixture emulators, bool inMemory)
    {
        var project = EmulatorFixture.NewProjectId("dash");
        var results = Directory.CreateTempSubdirectory("kfci-dashboard-").FullName;
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [KfciEnvironment.Project] = project,
            [emulators.Firestore.HostVariable] = emulators.Firestore.HostPort,
            [KfciEnvironment.ResultsDirectory] = results,
        };
        var app = DashboardCommand.Build(name => env.TryGetValue(name, out var value) ? value : null, 0, builder =>
        {
            if (inMemory)
            {
                builder.WebHost.UseTestServer();
            }
        });
        await app.StartAsync();
        var firestore = FirestoreClient.Create(project, retry: EmulatorFirestore.FastRetry, getEnv: name => env.TryGetValue(name, out var value) ? value : null);
        var harness = new DashboardHarness(app, firestore, results);
        harness.Client = inMemory ? app.GetTestClient() : new HttpClient { BaseAddress = new Uri(harness.Url) };
        return harness;
    }

    /// <summary>
    /// A finished build <paramref name="index"/> of <paramref name="job"/> (one hour apart) whose workflow <c>e2e</c> ran these
    /// tests: (name, result, message).
    /// </summary>
    public async Task<RunRecord> AddBuildAsync(string job, int index, IReadOnlyList<(string Name, string Result, string? Message)> tests, string? commit = null, RunState state = RunState.Finished)
    {
        var created = Epoch.AddHours(index);
        var runId = $"{job}-{index:D4}";
        var failed = tests.Any(t => t.Result == TestOutcomes.Fail);
        var run = new RunRecord
        {
            RunId = runId,
            JobName = job,
            BuildId = (1000 + index).ToString(System.Globalization.CultureInfo.InvariantCulture),
            JobType = "postsubmit",
            JobSpec = """{"type":"postsubmit","job":"j"}""",
            Repo = "kubeflow/pipelines",
            BaseSha = commit ?? $"{index:D4}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            State = state,
            Result = state == RunState.Finished ? (failed ? RunResults.Failure : RunResults.Success) : null,
            CreatedAt = created,
            UpdatedAt = created.AddMinutes(20),
            StartedAt = created,
            FinishedAt = state == RunState.Finished ? created.AddMinutes(20) : null,
            Plan = [new PlannedEntry(0, "e2e", true, true, "include_dirs matched py/**", $"{runId}-e2e")],
            Workflows = [new WorkflowRecord { Name = $"{runId}-e2e", Namespace = "ns", EntryName = "e2e", EntryIndex = 0, Submitted = true, Phase = failed ? "Failed" : "Succeeded", StartedAt = created, FinishedAt = created.AddMinutes(20) }],
        };
        await Runs.CreateAsync(run, default);
        if (state == RunState.Finished)
        {
            await WriteSummaryAsync(run, tests);
        }

        return run;
    }

    public Task WriteSummaryAsync(RunRecord run, IReadOnlyList<(string Name, string Result, string? Message)> tests) =>
        Tests.WriteAsync([WorkflowTestSummary.For(run, run.Workflows[0], tests.Select((t, i) => new TestCaseResult(t.Name, t.Result, 10 + i, t.Message, i * 10, $"artifacts/logs/{run.Workflows[0].Name}/{t.Name}.log")))], default);

    public Task SaveSweepAsync(SweepReport report) => new FirestoreSweepStore(Firestore).SaveReportAsync(report, default);

    public async Task<string> GetAsync(string path)
    {
        using var response = await Client.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
        Directory.Delete(ResultsDirectory, recursive: true);
    }
}
