using System.Text.Json.Nodes;
using Kfci.Cli.Local;
using Kfci.Cli.OnCall;
using Kfci.Configuration;
using Kfci.Runs;
using Kfci.Testing;

namespace Kfci.Tests.Local;

/// <summary>The local stack's smaller parts: the functions' environment, the follower, and where a run's results are.</summary>
public sealed class LocalPiecesTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    private static readonly KfciPaths s_paths = new("/repo", "/home/u/.kfci");

    [Fact]
    public void Environment_GivesTheFunctionsTheStacksProjectEmulatorsEngineDirectoriesAndTopics()
    {
        var state = new LocalStackState
        {
            Project = LocalChain.Project,
            Processes =
            [
                new LocalProcess(LocalChain.PubSubEmulator, 1, 4001, "a"),
                new LocalProcess(LocalChain.FirestoreEmulator, 2, 4002, "b"),
                new LocalProcess(LocalChain.Engine, 3, 4003, "c"),
            ],
        };

        var environment = LocalChain.Environment(state, s_paths);

        Assert.Equal("kfci-local", environment[KfciEnvironment.Project]);
        Assert.Equal("127.0.0.1:4001", environment[KfciEnvironment.PubSubEmulatorHost]);
        Assert.Equal("127.0.0.1:4002", environment[KfciEnvironment.FirestoreEmulatorHost]);
        Assert.Equal("http://127.0.0.1:4003", environment[KfciEnvironment.ClusterEndpoint]);
        Assert.Equal("/home/u/.kfci/results", environment[KfciEnvironment.ResultsDirectory]);
        Assert.Equal("/home/u/.kfci/repos", environment[KfciEnvironment.GitRoot]);
        Assert.Equal("/home/u/.kfci/nfs", environment[KfciEnvironment.NfsRoot]);
        Assert.Equal(("run-submitted", "run-completed", "run-finished"), (environment[KfciEnvironment.RunSubmittedTopic], environment[KfciEnvironment.RunCompletedTopic], environment[KfciEnvironment.RunFinishedTopic]));

        // The local engine is plain http on loopback: the adapters accept it without credentials.
        var cluster = KfciServices.ClusterConnection(environment.GetValueOrDefault);
        Assert.Equal("http://127.0.0.1:4003/", cluster.Host);
        Assert.Null(cluster.TokenProvider);
    }

    [Fact]
    public void Steps_OfARealArgoWorkflow_AreItsPodNodesInStartOrder()
    {
        var workflow = JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("argo/workflows/kfp-coinflip.succeeded.json")))!.AsObject();

        var steps = RunFollower.Steps(workflow);

        Assert.Equal(["flip-coin", "flip-coin", "heads"], steps.Select(s => s.Name));
        Assert.All(steps, s => Assert.Equal("Succeeded", s.Phase));
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.First.StartedAt <= p.Second.StartedAt));
    }

    [Fact]
    public async Task Follow_PlainOutput_PrintsEachChangeOnceAndReturnsTheTerminalRun()
    {
        var run = Record("r-1-abcdef01", RunState.Planning);
        var store = new ScriptedRuns(
        [
            run,
            run.MoveTo(RunState.Submitted, s_t0).WithWorkflow(Workflow(null)),
            run.MoveTo(RunState.Submitted, s_t0).WithWorkflow(Workflow(null)),
            run.MoveTo(RunState.Completed, s_t0).WithWorkflow(Workflow("Failed")),
            run.MoveTo(RunState.Finished, s_t0).WithWorkflow(Workflow("Failed")) with { Result = RunResults.Failure },
        ]);
        using var output = new StringWriter();

        var final = await new RunFollower(store, null, output, TimeSpan.FromMilliseconds(1)).FollowAsync(run.RunId, TimeSpan.FromSeconds(30), live: false, CancellationToken.None);

        Assert.Equal(RunResults.Failure, final!.Result);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[9..].TrimEnd()).ToList();
        Assert.Equal(
            ["run r-1-abcdef01: planning", "run r-1-abcdef01: submitted", "  workflow wf-1: Pending", "run r-1-abcdef01: completed", "  workflow wf-1: Failed", "run r-1-abcdef01: finished (FAILURE)"],
            lines);
    }

    [Fact]
    public async Task Follow_RunThatNeverEnds_ReturnsNullAtTheTimeout()
    {
        var store = new ScriptedRuns([Record("r-2-abcdef01", RunState.Submitted)]);

        var final = await new RunFollower(store, null, TextWriter.Null, TimeSpan.FromMilliseconds(10)).FollowAsync("r-2-abcdef01", TimeSpan.FromMilliseconds(200), live: false, CancellationToken.None);

        Assert.Null(final);
    }

    [Theory]
    [InlineData("gs://kubernetes-jenkins/pr-logs/pull/kubeflow_testing/7/job/12", null, "pr-logs/pull/kubeflow_testing/7/job/12")]
    [InlineData("/home/u/.kfci/results/logs/job/12/", "/home/u/.kfci/results", "logs/job/12")]
    [InlineData(null, "/home/u/.kfci/results", "pr-logs/pull/kubeflow_testing/7/job/12")]
    [InlineData("/elsewhere/logs/job/12", "/home/u/.kfci/results", "pr-logs/pull/kubeflow_testing/7/job/12")]
    public void PrefixOf_ResultsPathInTheStore_ElseProwsLayout(string? resultsPath, string? resultsDir, string expected)
    {
        var run = Record("job-12-abcdef01", RunState.Finished) with { ResultsPath = resultsPath, Repo = "kubeflow/testing", PullNumber = 7 };

        Assert.Equal(expected, RunLogs.PrefixOf(run, name => name == KfciEnvironment.ResultsDirectory ? resultsDir : null));
    }

    [Fact]
    public async Task WaitForRunAsync_AnOlderRunWithTheSameMessageId_IsNotThisRequests()
    {
        // The emulator numbers messages from 1 after every restart; the local stack's runs outlive it.
        var now = DateTimeOffset.UtcNow;
        var older = Record("job-old", RunState.Finished) with { EventId = "2", CreatedAt = now.AddMinutes(-1) };
        var newer = Record("job-new", RunState.Submitted) with { EventId = "2", CreatedAt = now.AddSeconds(1) };

        var olderOnly = await RunStarter.WaitForRunAsync(new ListedRuns([older]), "job", new PublishedRequest("2", now), TimeSpan.Zero, default);
        var both = await RunStarter.WaitForRunAsync(new ListedRuns([older, newer]), "job", new PublishedRequest("2", now), TimeSpan.Zero, default);

        Assert.Null(olderOnly);
        Assert.Equal("job-new", both?.RunId);
    }

    private static RunRecord Record(string runId, RunState state) => new()
    {
        RunId = runId, JobName = "job", BuildId = "12", JobType = "presubmit", JobSpec = "{}", State = state, CreatedAt = s_t0, UpdatedAt = s_t0,
    };

    private static WorkflowRecord Workflow(string? phase) =>
        new() { Name = "wf-1", Namespace = "ns", EntryName = "e2e", EntryIndex = 0, Submitted = true, Phase = phase };

    /// <summary>Answers each read with the next version of the run, then keeps answering the last.</summary>
    private sealed class ListedRuns(IReadOnlyList<RunRecord> runs) : IRunStore
    {
        public Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<(RunRecord Run, bool Created)> CreateAsync(RunRecord run, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunRecord?> UpdateAsync(string runId, Func<RunRecord, RunRecord?> change, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunRecord?> RecordWorkflowsAsync(string runId, IReadOnlyList<WorkflowRecord> finished, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken) => Task.FromResult(runs);
    }

    private sealed class ScriptedRuns(IReadOnlyList<RunRecord> versions) : IRunStore
    {
        private int _next;

        public Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) =>
            Task.FromResult<RunRecord?>(versions[Math.Min(_next++, versions.Count - 1)]);

        public Task<(RunRecord Run, bool Created)> CreateAsync(RunRecord run, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunRecord?> UpdateAsync(string runId, Func<RunRecord, RunRecord?> change, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunRecord?> RecordWorkflowsAsync(string runId, IReadOnlyList<WorkflowRecord> finished, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
