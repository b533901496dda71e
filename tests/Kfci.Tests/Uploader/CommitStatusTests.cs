using System.Net;
using Kfci.Functions.Uploader.GitHub;
using Kfci.Prow;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Testing.Gcs;
using Kfci.Testing.GitHub;
using Kfci.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Tests.Uploader;

/// <summary>
/// A kfci-owned pull-request run sets its GitHub commit status through Octokit, against the GitHub fake answering
/// Octokit's real requests: pending when submitted, then the verdict with a description and a link; nothing twice.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class CommitStatusTests(EmulatorFixture emulators, FakeGcsFixture gcs) : IClassFixture<FakeGcsFixture>, IDisposable
{
    private const string Token = "ghs_secret-token-value";
    private const string PullSha = "2222222222222222222222222222222222222222";
    private const string Template = "https://prow.example.com/view/gs/kfci-results/{path}";

    private readonly string _nfs = Directory.CreateTempSubdirectory("kfci-nfs-").FullName;

    public void Dispose() => Directory.Delete(_nfs, recursive: true);

    [Fact]
    public async Task KfciOwnedPullRequestRun_PendingThenFailureWithDescriptionAndLink_RedeliveryPostsNothingTwice()
    {
        await using var github = await FakeGitHubServer.StartAsync();
        var (repository, reporter) = KubeflowRepository(github);
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, _nfs, s => s with { StatusUrlTemplate = Template }, statuses: reporter);
        var spec = UploaderHarness.Spec(JobType.Presubmit);
        var report = Path.Combine(_nfs, "e2e-b", "output", "artifacts", "junit_e2e.xml");
        Directory.CreateDirectory(Path.GetDirectoryName(report)!);
        File.WriteAllText(report, """<testsuite tests="3" failures="2"><testcase name="a"><failure/></testcase><testcase name="b"><failure/></testcase><testcase name="c"/></testsuite>""");
        var run = await h.AddCompletedRunAsync(
            spec,
            [("e2e-a", "Succeeded", [new TestStep("only")]), ("e2e-b", "Failed", [new TestStep("test", "Failed", "exit 1")])],
            r => r with { PullSha = PullSha });

        await h.DeliverOkAsync(RunEventTypes.Submitted, run);
        var pending = Assert.Single(repository.StatusesOf(PullSha));
        Assert.Equal(("kubeflow-e2e", "pending", "kfci is running 2 workflows"), (pending.Context, pending.State, pending.Description));

        await h.DeliverOkAsync(RunEventTypes.Completed, run);
        var final = repository.StatusesOf(PullSha)[^1];
        Assert.Equal(("kubeflow-e2e", "failure", "1 of 2 workflows passed, 2 tests failed"), (final.Context, final.State, final.Description));
        Assert.Equal($"https://prow.example.com/view/gs/kfci-results/pr-logs/pull/kubeflow_kubeflow/4242/kubeflow-e2e/{spec.BuildId}", final.TargetUrl);

        // Redelivered: once more after the run finished, and once as if the Uploader died before marking it finished.
        await h.DeliverOkAsync(RunEventTypes.Completed, run, "m-again");
        await h.Runs.UpdateAsync(run.RunId, r => r with { State = RunState.Completed }, default);
        await h.DeliverOkAsync(RunEventTypes.Completed, run, "m-after-crash");
        await h.DeliverOkAsync(RunEventTypes.Submitted, run, "m-late-submitted");

        Assert.Equal(2, repository.StatusesOf(PullSha).Count);
        Assert.Equal(2, github.Requests.Count(r => r.Method == "POST"));
        Assert.All(github.Requests, r => Assert.Equal($"Token {Token}", r.Authorization));
        Assert.All(github.Requests, r => Assert.StartsWith("/api/v3/repos/kubeflow/kubeflow/", r.Target, StringComparison.Ordinal));
        Assert.DoesNotContain(h.Host.Logs.Entries, e => $"{e.Message} {e.Exception}".Contains(Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoRunsOnTheSameCommit_BothFail_TheSecondShowsPendingAndItsOwnLink()
    {
        // An on-call re-trigger of the same head: GitHub must not keep pointing at the first build.
        await using var github = await FakeGitHubServer.StartAsync();
        var (repository, reporter) = KubeflowRepository(github);
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, _nfs, s => s with { StatusUrlTemplate = Template }, statuses: reporter);
        var builds = new List<string>();
        foreach (var buildId in new[] { "2060000000000000101", "2060000000000000202" })
        {
            var spec = UploaderHarness.Spec(JobType.Presubmit, buildId: buildId);
            var run = await h.AddCompletedRunAsync(spec, [("e2e-" + buildId[^3..], "Failed", [new TestStep("test", "Failed", "exit 1")])], r => r with { PullSha = PullSha });
            await h.DeliverOkAsync(RunEventTypes.Submitted, run, "s-" + buildId);
            await h.DeliverOkAsync(RunEventTypes.Completed, run, "c-" + buildId);
            builds.Add(buildId);
        }

        var shown = repository.StatusesOf(PullSha);
        Assert.Equal(["pending", "failure", "pending", "failure"], shown.Select(s => s.State));
        Assert.EndsWith($"/kubeflow-e2e/{builds[1]}", shown[2].TargetUrl, StringComparison.Ordinal);
        Assert.EndsWith($"/kubeflow-e2e/{builds[1]}", shown[^1].TargetUrl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimitSpent_IsTransient_AndPostsNothing()
    {
        await using var github = await FakeGitHubServer.StartAsync();
        var (repository, reporter) = KubeflowRepository(github);
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, statuses: reporter);
        var run = await h.AddCompletedRunAsync(UploaderHarness.Spec(JobType.Presubmit), [("wf", "Succeeded", [new TestStep("only")])], r => r with { PullSha = PullSha });
        github.ExhaustRateLimit(TimeSpan.FromHours(1));

        var response = await h.DeliverAsync(RunEventTypes.Submitted, run);

        Assert.NotEqual(HttpStatusCode.NoContent, response.StatusCode);
        Assert.True((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests, response.StatusCode.ToString());
        Assert.Empty(repository.StatusesOf(PullSha));
    }

    [Fact]
    public async Task TokenWithoutRights_RunStillFinishes_AndTheRefusalIsLogged()
    {
        await using var github = await FakeGitHubServer.StartAsync();
        var (repository, reporter) = KubeflowRepository(github);
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, statuses: reporter);
        var run = await h.AddCompletedRunAsync(UploaderHarness.Spec(JobType.Presubmit), [("wf", "Succeeded", [new TestStep("only")])], r => r with { PullSha = PullSha });
        // "Resource not accessible by integration": the app's token lacks statuses:write. No redelivery can change that.
        github.Faults.Enqueue(new Fault(r => r.Method == "POST", status: 403, count: 10) { Message = "Resource not accessible by integration" });

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        Assert.Equal(RunState.Finished, (await h.Runs.GetAsync(run.RunId, default))!.State);
        Assert.Empty(repository.StatusesOf(PullSha));
    }

    [Fact]
    public async Task CommitWithMoreThanAPageOfStatuses_FindsItsOwnContext_AndPostsNothingTwice()
    {
        await using var github = await FakeGitHubServer.StartAsync();
        var (repository, reporter) = KubeflowRepository(github);
        var ours = new CommitStatus("kubeflow", "kubeflow", PullSha, "kubeflow-e2e", CommitStatusState.Success, "all passed", null);
        Assert.True(await reporter.ReportAsync(ours, default));
        // Other jobs keep posting after ours: kfci's status falls off the first page of the plain list.
        foreach (var i in Enumerable.Range(0, 150))
        {
            await reporter.ReportAsync(ours with { Context = $"other-{i}", State = CommitStatusState.Pending }, default);
        }

        Assert.False(await reporter.ReportAsync(ours, default));
        Assert.False(await reporter.ReportAsync(ours with { State = CommitStatusState.Pending }, default));
        Assert.Single(repository.StatusesOf(PullSha), s => s.Context == "kubeflow-e2e");
    }

    [Theory]
    [InlineData(138, "🧪")]
    [InlineData(138, "e\u0301")]
    public void Shorten_LongDescription_NeverSplitsATextElement(int prefix, string tail)
    {
        var text = new string('x', prefix) + System.Text.RegularExpressions.Regex.Unescape(tail) + new string('y', 20);

        var shortened = OctokitCommitStatusReporter.Shorten(text);

        Assert.InRange(shortened.Length, 1, OctokitCommitStatusReporter.MaxDescription);
        Assert.EndsWith("…", shortened, StringComparison.Ordinal);
        Assert.False(char.IsHighSurrogate(shortened[^2]), "a lone high surrogate before the ellipsis");
        Assert.DoesNotContain("e…", shortened[^3..], StringComparison.Ordinal);
    }

    /// <summary>kubeflow/kubeflow with the pull request's head commit, and a reporter posting to it with the app's token.</summary>
    private static (FakeGitHubRepository Repository, OctokitCommitStatusReporter Reporter) KubeflowRepository(FakeGitHubServer github)
    {
        var repository = github.AddRepository("kubeflow", "kubeflow");
        repository.AddCommit(PullSha, new Dictionary<string, byte[]>());
        return (repository, new OctokitCommitStatusReporter(OctokitCommitStatusReporter.CreateClient(github.BaseAddress, Token), NullLogger<OctokitCommitStatusReporter>.Instance));
    }

    [Fact]
    public void RunStatuses_ProwOwnedOrNoPullRequest_ReportNothing()
    {
        var run = new RunRecord
        {
            RunId = "r", JobName = "j", BuildId = "1", JobType = "presubmit", JobSpec = "{}", Repo = "o/r", PullSha = PullSha,
            CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        };
        Assert.NotNull(RunStatuses.For(run, CommitStatusState.Pending, "x", null, "d"));
        Assert.Null(RunStatuses.For(run with { Owner = BuildOwners.Prow }, CommitStatusState.Pending, "x", null, "d"));
        Assert.Null(RunStatuses.For(run with { PullSha = null }, CommitStatusState.Pending, "x", null, "d"));
        Assert.Equal((CommitStatusState.Error, "aborted"), RunStatuses.Final(run, RunResults.Aborted, 0));
    }
}
