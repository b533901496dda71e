using System.CommandLine;
using System.Text;
using System.Text.Json;
using Kfci.Cli.CommandLine;
using Kfci.Firestore;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Storage;
using Kfci.Testing;
using Kfci.Tests.PubSub;

namespace Kfci.Tests.Local;

/// <summary>
/// The on-call commands against runs in the real Firestore emulator, events on the real Pub/Sub emulator and results in a
/// <see cref="LocalDirectoryResultsStore"/>: configured only through the environment, as on a real project.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class OnCallCommandTests : IDisposable
{
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    private readonly EmulatorFixture _emulators;
    private readonly string _home = Directory.CreateTempSubdirectory("kfci-home-").FullName;
    private readonly string _results = Directory.CreateTempSubdirectory("kfci-results-").FullName;
    private readonly string _project = EmulatorFixture.NewProjectId("oncall");
    private readonly FirestoreRunStore _runs;
    private readonly PubSubClient _pubSub;
    private readonly LocalDirectoryResultsStore _store;

    public OnCallCommandTests(EmulatorFixture emulators)
    {
        _emulators = emulators;
        _runs = new FirestoreRunStore(FirestoreClient.Create(getEnv: Env));
        _pubSub = PubSubClient.Create(_project, getEnv: Env);
        _store = new LocalDirectoryResultsStore(_results);
    }

    public void Dispose()
    {
        StackDirectories.Delete(_home);
        Directory.Delete(_results, recursive: true);
    }

    private string? Env(string name) => name switch
    {
        "KFCI_PROJECT" => _project,
        "KFCI_HOME" => _home,
        "KFCI_RESULTS_DIR" => _results,
        "PUBSUB_EMULATOR_HOST" => _emulators.PubSub.HostPort,
        "FIRESTORE_EMULATOR_HOST" => _emulators.Firestore.HostPort,
        _ => null,
    };

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await KfciCli.RunAsync(KfciCli.Create(Env), args, new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static RunRecord Run(string jobName, string buildId, int minutes, RunState state = RunState.Finished, string? result = "SUCCESS")
    {
        var refs = new Refs
        {
            Org = "kubeflow", Repo = "testing", BaseRef = "master", BaseSha = "feedbeef00",
            Pulls = [new Pull { Number = 77, Sha = "123abcdef0" }], CloneUri = "/tmp/somewhere",
        };
        var spec = new ProwJobSpec(JobType.Presubmit, jobName, buildId, refs, []);
        var created = s_t0.AddMinutes(minutes);
        var workflow = new RunIdentity(jobName, buildId).RunId + "-e2e";
        return new RunRecord
        {
            RunId = spec.Run.RunId, JobName = jobName, BuildId = buildId, JobType = "presubmit", JobSpec = spec.ToJson(),
            Repo = "kubeflow/testing", BaseRef = "master", BaseSha = "feedbeef00", PullNumber = 77, PullSha = "123abcdef0",
            Envs = new Dictionary<string, string> { ["EXTRA"] = "1" },
            State = state, Result = result, CreatedAt = created, UpdatedAt = created,
            Plan =
            [
                new PlannedEntry(0, "e2e", true, true, "job type presubmit in [presubmit]; matched 'py/x.py' by 'py/*'", workflow),
                new PlannedEntry(1, "docs", false, true, "no changed file matches include_dirs [docs/*]", null),
            ],
            Workflows =
            [
                new WorkflowRecord
                {
                    Name = workflow, Namespace = "kubeflow-test-infra", EntryName = "e2e", EntryIndex = 0, Submitted = true,
                    Phase = result == "SUCCESS" ? "Succeeded" : "Failed", UiLink = $"https://argo.example/workflows/kubeflow-test-infra/{workflow}",
                    StartedAt = created, FinishedAt = created.AddMinutes(3),
                    FailedNodes = result == "SUCCESS" ? [] : [new FailedNode("n1", $"{workflow}.unit", "unit", "Failed", "exit code 1")],
                },
            ],
            Errors = state == RunState.Error ? ["prow_config.yaml: invalid YAML at line 3, column 1"] : [],
            History = [new RunHistoryEntry(RunState.Planning, created, null), new RunHistoryEntry(state, created.AddMinutes(4), "done")],
        };
    }

    [Fact]
    public async Task RunsList_FiltersByJobAndState_NewestFirst()
    {
        await _runs.CreateAsync(Run("job-a", "1", 1), CancellationToken.None);
        await _runs.CreateAsync(Run("job-a", "2", 2, RunState.Error, null), CancellationToken.None);
        await _runs.CreateAsync(Run("job-a", "3", 3), CancellationToken.None);
        await _runs.CreateAsync(Run("job-b", "4", 4), CancellationToken.None);

        var all = await RunAsync("runs", "list", "--job", "job-a");
        var finished = await RunAsync("runs", "list", "--job", "job-a", "--state", "finished", "--limit", "1");

        Assert.Equal(0, all.Exit);
        var lines = all.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("RUN", lines[0], StringComparison.Ordinal);
        Assert.Equal(["job-a-3-", "job-a-2-", "job-a-1-"], lines.Skip(1).Select(l => l[..8]));
        Assert.Contains("error", lines[2], StringComparison.Ordinal);
        Assert.Equal(0, finished.Exit);
        Assert.Equal(2, finished.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("job-a-3-", finished.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsList_BadState_ExitsTwoWithOneLine()
    {
        var (exit, stdout, stderr) = await RunAsync("runs", "list", "--state", "done");

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Equal("kfci: --state done: use planning, submitted, completed, finished, error or aborted", stderr.Trim());
    }

    [Fact]
    public async Task RunsShow_PrintsPlanWithReasonsWorkflowsLinksResultsAndErrors()
    {
        var run = Run("job-show", "9", 1, RunState.Error, null) with { ResultsPath = "gs://bucket/pr-logs/pull/kubeflow_testing/77/job-show/9" };
        await _runs.CreateAsync(run, CancellationToken.None);

        var (exit, stdout, stderr) = await RunAsync("runs", "show", run.RunId);

        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.Contains($"run       {run.RunId}", stdout, StringComparison.Ordinal);
        Assert.Contains("run  #0 e2e: job type presubmit in [presubmit]; matched 'py/x.py' by 'py/*'", stdout, StringComparison.Ordinal);
        Assert.Contains("skip #1 docs: no changed file matches include_dirs [docs/*]", stdout, StringComparison.Ordinal);
        Assert.Contains($"ui: {run.Workflows[0].UiLink}", stdout, StringComparison.Ordinal);
        Assert.Contains("failed step unit (Failed): exit code 1", stdout, StringComparison.Ordinal);
        Assert.Contains("results   gs://bucket/pr-logs/pull/kubeflow_testing/77/job-show/9", stdout, StringComparison.Ordinal);
        Assert.Contains("prow_config.yaml: invalid YAML at line 3, column 1", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsListAndShow_FormatJson_GiveTheRunDocumentsForScripts()
    {
        var run = Run("job-json", "5", 1, RunState.Error, null);
        await _runs.CreateAsync(run, CancellationToken.None);

        var list = await RunAsync("runs", "list", "--job", "job-json", "--format", "json");
        var show = await RunAsync("runs", "show", run.RunId, "--format", "json");
        var bad = await RunAsync("runs", "show", run.RunId, "--format", "yaml");

        Assert.Equal(0, list.Exit);
        var listed = Assert.Single(System.Text.Json.JsonDocument.Parse(list.Out).RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal(run.RunId, listed.GetProperty("runId").GetString());
        Assert.Equal(0, show.Exit);
        var shown = System.Text.Json.JsonDocument.Parse(show.Out).RootElement;
        Assert.Equal("error", shown.GetProperty("state").GetString());
        Assert.Equal(run.Plan.Count, shown.GetProperty("plan").GetArrayLength());
        Assert.Equal(2, bad.Exit);
        Assert.Contains("--format must be text or json", bad.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsShow_UnknownOrMalformedRun_ExitsTwoWithOneLine()
    {
        var missing = await RunAsync("runs", "show", "no-such-run-1-abcdef01");
        var malformed = await RunAsync("runs", "show", "Not/A/Run");

        Assert.Equal(2, missing.Exit);
        Assert.StartsWith("kfci: no run no-such-run-1-abcdef01 in project", missing.Err, StringComparison.Ordinal);
        Assert.Single(missing.Err.Trim().Split('\n'));
        Assert.Equal(2, malformed.Exit);
        Assert.Contains("is not a kfci run id", malformed.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_ReadTheUploadersFilesFromTheResultsStore()
    {
        var run = Run("job-logs", "5", 1);
        var prefix = ResultsLayout.Default.BuildDirectory(JobType.Presubmit, run.JobName, run.BuildId, "kubeflow", "testing", 77);
        run = run with { ResultsPath = _store.Describe(prefix) };
        await _runs.CreateAsync(run, CancellationToken.None);
        var workflow = run.Workflows[0].Name;
        await WriteAsync($"{prefix}/build-log.txt", "== checkout (Succeeded)\ncloned\n");
        await WriteAsync($"{prefix}/artifacts/logs/{workflow}/checkout.log", "cloned\n");
        await WriteAsync($"{prefix}/artifacts/logs/{workflow}/unit.log", "3 tests OK\n");

        var build = await RunAsync("logs", run.RunId);
        var step = await RunAsync("logs", run.RunId, "--workflow", workflow, "--step", "unit");
        var steps = await RunAsync("logs", run.RunId, "--workflow", workflow);
        var missingStep = await RunAsync("logs", run.RunId, "--step", "lint");
        var missingWorkflow = await RunAsync("logs", run.RunId, "--workflow", "other");

        Assert.Equal((0, "== checkout (Succeeded)\ncloned\n"), (build.Exit, build.Out));
        Assert.Equal((0, "3 tests OK\n"), (step.Exit, step.Out));
        Assert.Equal(0, steps.Exit);
        Assert.Contains($"==> {prefix}/artifacts/logs/{workflow}/checkout.log <==\ncloned\n", steps.Out, StringComparison.Ordinal);
        Assert.Contains("3 tests OK", steps.Out, StringComparison.Ordinal);
        Assert.Equal(2, missingStep.Exit);
        Assert.Contains("kfci: no log of step lint under ", missingStep.Err, StringComparison.Ordinal);
        Assert.Equal(2, missingWorkflow.Exit);
        Assert.Contains($"has no workflow other (it has: {workflow})", missingWorkflow.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_BeforeTheUploaderWroteThem_ExitsTwoSayingWhy()
    {
        var run = Run("job-early", "6", 1, RunState.Submitted, null);
        await _runs.CreateAsync(run, CancellationToken.None);

        var (exit, _, stderr) = await RunAsync("logs", run.RunId);

        Assert.Equal(2, exit);
        Assert.Contains("no build-log.txt at", stderr, StringComparison.Ordinal);
        Assert.Contains("run state submitted", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trigger_PublishesASubStyleEvent_AndPrintsTheRunTheTriggerMadeOfIt()
    {
        await _pubSub.CreateTopicAsync(KfciTopics.ProwEvents);
        await _pubSub.CreateSubscriptionAsync(new SubscriptionConfig { Id = "prow-events-tap", TopicId = KfciTopics.ProwEvents });

        var command = RunAsync(
            "trigger", "--job-name", "kubeflow-presubmit", "--job-type", "presubmit", "--repo-owner", "kubeflow", "--repo-name", "testing",
            "--base-ref", "master", "--base-sha", "feedbeef00", "--pull-number", "77", "--pull-sha", "123abcdef0", "--env", "A=b=c", "--wait", "20");
        var message = Assert.Single(await PubSubTestKit.PullAsync(_pubSub, "prow-events-tap", 1));

        // Stand in for the Trigger: parse the event as it does and record the run under the message id.
        var parsed = ProwEventParser.Parse(message.Data.Span, message.Attributes, message.MessageId, message.PublishTime);
        Assert.Equal(ProwEventParser.PresubmitEvent, message.Attributes[ProwEventParser.EventTypeAttribute]);
        Assert.Equal(("kubeflow-presubmit", JobType.Presubmit), (parsed.Job.JobName, parsed.Job.Type));
        Assert.Equal(("kubeflow", "testing", "master", "feedbeef00"), (parsed.Job.Refs!.Org, parsed.Job.Refs.Repo, parsed.Job.Refs.BaseRef, parsed.Job.Refs.BaseSha));
        Assert.Equal((77, "123abcdef0"), (parsed.Job.Refs.FirstPull!.Number, parsed.Job.Refs.FirstPull.Sha));
        Assert.Equal("b=c", parsed.Envs["A"]);
        // Created now, as the Trigger creates it: the command takes only runs created after its publish.
        var run = Run(parsed.Job.JobName, parsed.Job.BuildId, 1, RunState.Planning, null) with { EventId = message.MessageId, CreatedAt = DateTimeOffset.UtcNow };
        await _runs.CreateAsync(run, CancellationToken.None);

        var (exit, stdout, stderr) = await command;
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.Equal(run.RunId, stdout.Trim());
    }

    [Theory]
    [InlineData("--job-type", "presubmit", "--repo-owner", "o", "--repo-name", "r", "kfci: --job-name N is required")]
    [InlineData("--job-name", "j", "--job-type", "batch", "--repo-owner", "o", "--repo-name", "r", "kfci: --job-type must be presubmit, postsubmit or periodic, not 'batch'")]
    [InlineData("--job-name", "j", "--job-type", "postsubmit", "--repo-name", "r", "kfci: --repo-owner O is required")]
    [InlineData("--job-name", "j", "--job-type", "periodic", "--env", "NOEQUALS", "kfci: --env NOEQUALS: use NAME=VALUE")]
    public async Task Trigger_BadArguments_ExitTwoWithOneLine(params string[] argsAndError)
    {
        var (exit, _, stderr) = await RunAsync(["trigger", .. argsAndError[..^1]]);

        Assert.Equal(2, exit);
        Assert.Equal(argsAndError[^1], stderr.Trim());
    }

    [Fact]
    public async Task Replay_PublishesTheSameJobAtTheSameCommit()
    {
        await _pubSub.CreateTopicAsync(KfciTopics.ProwEvents);
        await _pubSub.CreateSubscriptionAsync(new SubscriptionConfig { Id = "replay-tap", TopicId = KfciTopics.ProwEvents });
        var original = Run("job-replay", "1234", 1, RunState.Finished, "FAILURE");
        await _runs.CreateAsync(original, CancellationToken.None);

        var (exit, stdout, _) = await RunAsync("replay", original.RunId, "--wait", "0");

        Assert.Equal(0, exit);
        Assert.StartsWith("published message ", stdout, StringComparison.Ordinal);
        var message = Assert.Single(await PubSubTestKit.PullAsync(_pubSub, "replay-tap", 1));
        var replayed = ProwEventParser.Parse(message.Data.Span, message.Attributes, message.MessageId, message.PublishTime);
        var originalSpec = JsonDocument.Parse(original.JobSpec).RootElement.GetProperty("refs").GetRawText();
        Assert.Equal(originalSpec, JsonSerializer.Serialize(replayed.Job.Refs));
        Assert.Equal(original.JobName, replayed.Job.JobName);
        Assert.Equal(JobType.Presubmit, replayed.Job.Type);
        Assert.NotEqual(original.BuildId, replayed.Job.BuildId);
        Assert.Equal("1", replayed.Envs["EXTRA"]);
    }

    private async Task WriteAsync(string path, string text)
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text));
        await _store.WriteAsync(path, content, null, CancellationToken.None);
    }
}
