using System.Text;
using System.Text.Json;
using Kfci.Prow;
using Kfci.Testing.Git;

namespace Kfci.Tests.ProwConfig;

/// <summary><c>kfci plan --event FILE</c> and <c>--repo DIR</c>, checked against the same plan made from explicit flags.</summary>
public sealed class PlanCommandSourceTests : IDisposable
{
    private const string BaseSha = "0123456789abcdef0123456789abcdef01234567";
    private const string PullSha = "fedcba9876543210fedcba9876543210fedcba98";

    private const string Config = """
        workflows:
          - name: e2e
            workflow: test/e2e.yaml
            include_dirs: [py/*]
          - name: docs
            workflow: test/docs.yaml
            job_types: [presubmit, postsubmit]
            include_dirs: [docs/*]
        """;

    private const string PresubmitData = $$"""
        {"name":"kubeflow-presubmit","refs":{"org":"kubeflow","repo":"testing","base_ref":"master","base_sha":"{{BaseSha}}",
         "pulls":[{"number":42,"author":"u","sha":"{{PullSha}}"}]} }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("kfci-plan-src-").FullName;
    private readonly string _config;
    private readonly string _changed;

    public PlanCommandSourceTests()
    {
        _config = Write("prow_config.yaml", Config);
        _changed = Write("changed.txt", "py/a.py\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => PlanCommandTests.RunAsync([.. args, "--format", "json"]);

    private static List<JsonElement> Workflows(string json) =>
        [.. JsonDocument.Parse(json).RootElement.GetProperty("workflows").EnumerateArray().Select(w => w.Clone())];

    private static void AssertOneLineError((int Exit, string Out, string Err) result, string expected)
    {
        Assert.Equal(2, result.Exit);
        Assert.StartsWith("kfci: ", result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.TrimEnd().Split('\n'));
        Assert.Contains(expected, result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Event_PubSubMessage_SamePlanAsExplicitFlags()
    {
        var message = new
        {
            data = Convert.ToBase64String(Encoding.UTF8.GetBytes(PresubmitData)),
            attributes = new Dictionary<string, string> { [ProwEventParser.EventTypeAttribute] = ProwEventParser.PresubmitEvent },
            messageId = "998877",
            publishTime = "2024-05-31T12:00:00.123Z",
        };
        var eventFile = Write("message.json", JsonSerializer.Serialize(message));
        var buildId = ProwEventParser.BuildIdFor("998877", DateTimeOffset.Parse("2024-05-31T12:00:00.123Z", System.Globalization.CultureInfo.InvariantCulture));

        var fromEvent = await RunAsync("--event", eventFile, "--prow-config", _config, "--changed-files", _changed);
        var fromFlags = await RunAsync(
            "--prow-config", _config, "--changed-files", _changed, "--job-type", "presubmit", "--job-name", "kubeflow-presubmit", "--build-id", buildId,
            "--repo-owner", "kubeflow", "--repo-name", "testing", "--pull-number", "42", "--pull-sha", PullSha, "--base-sha", BaseSha, "--base-ref", "master");

        Assert.Equal(0, fromEvent.Exit);
        Assert.Equal(fromFlags.Out, fromEvent.Out);
        var workflows = Workflows(fromEvent.Out);
        Assert.Equal([true, false], workflows.Select(w => w.GetProperty("selected").GetBoolean()));
        Assert.Contains("-42-fedcba9-", workflows[0].GetProperty("workflowName").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Event_CrierReport_TypeAndBuildIdFromReport_FlagsOverride()
    {
        var report = Write("report.json", $$"""
            {"project":"p","topic":"prow-events","runid":"r","status":"triggered","url":"",
             "gcs_path":"gs://b/logs/kubeflow-postsubmit/1258197944759226371",
             "refs":[{"org":"kubeflow","repo":"testing","base_ref":"master","base_sha":"{{BaseSha}}"}],
             "job_type":"postsubmit","job_name":"kubeflow-postsubmit","message":""}
            """);

        var (exit, stdout, _) = await RunAsync("--event", report, "--prow-config", _config, "--changed-files", _changed);
        var overridden = await RunAsync("--event", report, "--prow-config", _config, "--changed-files", _changed, "--job-name", "other-job", "--build-id", "5555");

        Assert.Equal(0, exit);
        var name = Workflows(stdout)[0].GetProperty("workflowName").GetString()!;
        Assert.StartsWith("kubeflow-postsubmit-e2e-0123456-6371-", name, StringComparison.Ordinal);
        Assert.StartsWith("other-job-e2e-0123456-5555-", Workflows(overridden.Out)[0].GetProperty("workflowName").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Event_BareSubStyleData_TypeInferredFromRefsOrGiven()
    {
        var postsubmit = Write("post.json", $$"""{"name":"kubeflow-postsubmit","refs":{"org":"kubeflow","repo":"testing","base_ref":"master","base_sha":"{{BaseSha}}"} }""");
        var presubmit = Write("pre.json", PresubmitData);
        var noChanges = Write("none.txt", "");

        var inferredPost = await RunAsync("--event", postsubmit, "--prow-config", _config, "--changed-files", noChanges, "--build-id", "1");
        var inferredPre = await RunAsync("--event", presubmit, "--prow-config", _config, "--changed-files", _changed, "--build-id", "1");
        var periodic = await RunAsync("--event", postsubmit, "--event-type", "periodic", "--prow-config", _config, "--build-id", "1");

        // Inferred postsubmit: include_dirs apply (a periodic would have selected e2e).
        Assert.Equal([false, false], Workflows(inferredPost.Out).Select(w => w.GetProperty("selected").GetBoolean()));
        Assert.Contains("-42-", Workflows(inferredPre.Out)[0].GetProperty("workflowName").GetString(), StringComparison.Ordinal);

        // Periodic runs ignore include_dirs; docs is not a periodic entry.
        Assert.Equal([true, false], Workflows(periodic.Out).Select(w => w.GetProperty("selected").GetBoolean()));
    }

    [Fact]
    public async Task Event_BadInput_OneLineExit2()
    {
        var garbage = Write("garbage.json", "{not json");
        var noName = Write("noname.json", """{"refs":{"org":"kubeflow","repo":"testing"}}""");
        var good = Write("good.json", PresubmitData);

        AssertOneLineError(await RunAsync("--event", garbage, "--prow-config", _config), "--event");
        AssertOneLineError(await RunAsync("--event", noName, "--prow-config", _config), "name");
        AssertOneLineError(await RunAsync("--event", good, "--event-type", "batch", "--prow-config", _config), "--event-type");
        AssertOneLineError(await RunAsync("--event-type", "periodic", "--prow-config", _config), "--event-type needs --event");
        AssertOneLineError(await RunAsync("--event", Path.Combine(_dir, "missing.json"), "--prow-config", _config), "missing.json");
    }

    [Fact]
    public async Task Repo_Presubmit_ConfigAtPullHeadAndChangesFromMergeBase()
    {
        using var repo = TestGitRepository.Create();
        repo.Write("prow_config.yaml", "workflows:\n  - name: old\n    workflow: old.yaml\n");
        repo.Write("docs/index.md", "d");
        repo.Commit();
        repo.Git("checkout", "--quiet", "-b", "pr");
        repo.Write("prow_config.yaml", Config);
        repo.Write("py/new.py", "p");
        var head = repo.Commit();
        repo.Git("checkout", "--quiet", "master");
        repo.Write("docs/index.md", "changed on master after the branch");
        repo.Commit();
        repo.Git("checkout", "--quiet", "pr");

        var (exit, stdout, stderr) = await RunAsync("--repo", repo.Directory, "--job-type", "presubmit", "--pull-number", "3", "--base-ref", "master", "--build-id", "77");

        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        var workflows = Workflows(stdout);
        Assert.Equal(["e2e", "docs"], workflows.Select(w => w.GetProperty("name").GetString()));
        Assert.Equal([true, false], workflows.Select(w => w.GetProperty("selected").GetBoolean()));
        Assert.Contains($"-3-{head[..7]}-", workflows[0].GetProperty("workflowName").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repo_PostsubmitAtHead_ExplicitChangedFilesOverrideGit()
    {
        using var repo = TestGitRepository.Create();
        repo.Write("prow_config.yaml", Config);
        repo.Commit();
        repo.Write("docs/a.md", "a");
        var head = repo.Commit();

        var fromGit = await RunAsync("--repo", repo.Directory, "--job-type", "postsubmit");
        var overridden = await RunAsync("--repo", repo.Directory, "--job-type", "postsubmit", "--changed-files", _changed);

        Assert.Equal(0, fromGit.Exit);
        Assert.Equal([false, true], Workflows(fromGit.Out).Select(w => w.GetProperty("selected").GetBoolean()));
        Assert.Contains($"-{head[..7]}-", Workflows(fromGit.Out)[1].GetProperty("workflowName").GetString(), StringComparison.Ordinal);
        Assert.Equal([true, false], Workflows(overridden.Out).Select(w => w.GetProperty("selected").GetBoolean()));
    }

    [Fact]
    public async Task Repo_BadInput_OneLineExit2()
    {
        using var repo = TestGitRepository.Create();
        repo.Write("README.md", "no config here");
        repo.Commit();
        var notARepo = Directory.CreateDirectory(Path.Combine(_dir, "plain")).FullName;

        AssertOneLineError(await RunAsync("--repo", repo.Directory, "--job-type", "postsubmit"), "no prow_config.yaml");
        AssertOneLineError(await RunAsync("--repo", repo.Directory, "--job-type", "presubmit", "--base-ref", "master"), "--pull-number");
        AssertOneLineError(await RunAsync("--repo", repo.Directory, "--job-type", "presubmit", "--pull-number", "1"), "--base-sha or --base-ref");
        AssertOneLineError(await RunAsync("--repo", notARepo, "--job-type", "postsubmit"), "--repo");
        AssertOneLineError(await RunAsync("--repo", Path.Combine(_dir, "absent"), "--job-type", "postsubmit"), "no such directory");
        AssertOneLineError(await RunAsync("--repo", repo.Directory, "--job-type", "postsubmit", "--base-sha", new string('a', 40)), "not found");
    }

    [Fact]
    public async Task Render_Repo_PrintsTheSelectedWorkflowsAsTheTriggerWouldSubmitThem()
    {
        const string workflow = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: e2e-}\nspec:\n  entrypoint: main\n"
            + "  templates:\n    - name: main\n      container: {image: alpine, command: [echo, hi]}\n";
        using var repo = TestGitRepository.Create();
        repo.Write("prow_config.yaml", Config);
        repo.Write("test/e2e.yaml", workflow);
        repo.Commit();
        repo.Write("py/a.py", "a");
        var head = repo.Commit();

        var (exit, stdout, stderr) = await RunAsync("--repo", repo.Directory, "--job-type", "postsubmit", "--render");

        Assert.True(exit == 0, stderr);
        var output = JsonDocument.Parse(stdout).RootElement;
        var rendered = Assert.Single(output.GetProperty("rendered").EnumerateArray());
        var name = output.GetProperty("workflows")[0].GetProperty("workflowName").GetString();
        Assert.Equal(name, rendered.GetProperty("metadata").GetProperty("name").GetString());
        Assert.Equal("true", rendered.GetProperty("metadata").GetProperty("labels").GetProperty(Kfci.Runs.WorkflowLabels.Managed).GetString());
        var parameters = rendered.GetProperty("spec").GetProperty("arguments").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("value").GetString());
        Assert.Equal($"/mnt/test-data-volume/{name}", parameters["test_dir"]);
        Assert.Contains(head, parameters["repo_spec"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_WithoutRepo_OrWithABrokenWorkflow_IsOneLineError()
    {
        AssertOneLineError(await RunAsync("--prow-config", _config, "--job-type", "periodic", "--render"), "--render needs --repo");

        using var repo = TestGitRepository.Create();
        repo.Write("prow_config.yaml", Config);
        repo.Write("test/e2e.yaml", "kind: Pod\n");
        repo.Commit();
        repo.Write("py/a.py", "a");
        repo.Commit();
        AssertOneLineError(await RunAsync("--repo", repo.Directory, "--job-type", "postsubmit", "--render"), "entry 0 (e2e)");
    }
}
