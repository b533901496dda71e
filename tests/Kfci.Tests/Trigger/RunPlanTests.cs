using System.Text;
using Kfci.Functions.Trigger;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Sources;
using Kfci.Testing;
using Kfci.Tests.Workflows;
using Kfci.Workflows;

namespace Kfci.Tests.Trigger;

public sealed class RunPlanTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private const string PullSha = "abcdef0123456789abcdef0123456789abcdef01";

    /// <summary>Files of one commit and a fixed change set; anything else is absent.</summary>
    private sealed class InMemorySource(Dictionary<string, string> files, IReadOnlyList<string> changed) : IRepositorySource
    {
        public Task<byte[]?> ReadFileAsync(RepositoryName repository, string commitSha, string path, long maxBytes, CancellationToken cancellationToken) =>
            Task.FromResult(files.TryGetValue(path, out var text) ? Encoding.UTF8.GetBytes(text) : null);

        public Task<string> ResolveBranchAsync(RepositoryName repository, string branch, CancellationToken cancellationToken) =>
            throw new SourceNotFoundException($"branch '{branch}' of {repository} not found");

        public Task<IReadOnlyList<string>> ChangedFilesAsync(ProwJobSpec job, CancellationToken cancellationToken) => Task.FromResult(changed);
    }

    private static ProwJobSpec Job(JobType type) => new(type, $"kubeflow-{type.ToProwString()}", "8000", new Refs
    {
        Org = "kubeflow",
        Repo = "kubeflow",
        BaseRef = "master",
        BaseSha = Sha,
        Pulls = type is JobType.Presubmit or JobType.Batch ? [new Pull { Number = 5, Sha = PullSha }] : null,
    }, []);

    public static TheoryData<string, JobType> FixtureConfigs()
    {
        var data = new TheoryData<string, JobType>();
        var root = Fixtures.PathOf("prow_config");
        foreach (var file in Directory.EnumerateFiles(root, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            foreach (var type in new[] { JobType.Presubmit, JobType.Postsubmit, JobType.Periodic })
            {
                data.Add(Path.GetRelativePath(root, file), type);
            }
        }

        return data;
    }

    /// <summary>
    /// Real kubeflow configs: every selected entry is either rendered or recorded as an error (they are ksonnet and
    /// py_func entries, so recorded), never dropped; and the same config with every entry pointed at a workflow file
    /// renders every selected entry into an object Argo's schema accepts, with the entry's real params.
    /// </summary>
    [Theory]
    [MemberData(nameof(FixtureConfigs))]
    public async Task Build_FixtureConfig_EverySelectedEntryRenderedOrRecorded(string fixture, JobType type)
    {
        var text = File.ReadAllText(Fixtures.PathOf($"prow_config/{fixture}"));
        var changed = new[] { "README.md", "testing/x.py", "py/kubeflow/x.py", "components/a/b.go", "docs/x.md" };
        var source = new InMemorySource(new() { ["prow_config.yaml"] = text, ["testing/e2e.yaml"] = WorkflowRendererTests.Example }, changed);
        var job = Job(type);

        var plan = await RunPlan.BuildAsync(source, job, new Dictionary<string, string>(), WorkflowRendererTests.Options, CancellationToken.None);

        var selected = plan.Entries.Where(e => e.Selected).ToList();
        Assert.Equal(selected.Count, plan.Workflows.Count + plan.Errors.Count);
        Assert.All(plan.Errors, e => Assert.Contains("unsupported", e, StringComparison.Ordinal));
        Assert.Equal(plan.Entries.Count, plan.Recorded.Count);

        var config = ProwConfigParser.Parse(text);
        foreach (var entry in Planner.Plan(config with { Workflows = [.. config.Workflows.Select(w => w with { Workflow = "testing/e2e.yaml" })] }, job, changed).Where(e => e.Selected))
        {
            try
            {
                var workflow = WorkflowRenderer.Render(Encoding.UTF8.GetBytes(WorkflowRendererTests.Example), job, entry, WorkflowRendererTests.Options);
                Assert.Empty(ArgoSchema.Errors(workflow));
            }
            catch (WorkflowRenderException e)
            {
                // The one refusal real params can cause: an entry param naming a built-in (kubeflow passed "name" and such to ksonnet).
                Assert.Contains("a parameter kfci provides", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(null, "has no prow_config.yaml")]
    [InlineData("workflows: [", "invalid YAML")]
    [InlineData("workflows:\n- name: a\n  workflow: ../outside.yaml\n", "leaves the repository")]
    [InlineData("workflows:\n- name: a\n  workflow: missing.yaml\n", "does not exist")]
    [InlineData("workflows:\n- name: a\n  workflow: bad.yaml\n", "only kind: Workflow")]
    public async Task Build_Unplannable_ThrowsOneLineReason(string? config, string expected)
    {
        var files = new Dictionary<string, string> { ["bad.yaml"] = "apiVersion: v1\nkind: Pod\nspec: {}\n" };
        if (config is not null)
        {
            files["prow_config.yaml"] = config;
        }

        var e = await Assert.ThrowsAsync<RunPlanningException>(() =>
            RunPlan.BuildAsync(new InMemorySource(files, []), Job(JobType.Postsubmit), new Dictionary<string, string>(), WorkflowRendererTests.Options, CancellationToken.None));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Build_PeriodicWithoutRepository_ThrowsPlanningError()
    {
        var job = new ProwJobSpec(JobType.Periodic, "ci-nightly", "1", null, []);

        var e = await Assert.ThrowsAsync<RunPlanningException>(() =>
            RunPlan.BuildAsync(new InMemorySource([], []), job, new Dictionary<string, string>(), WorkflowRendererTests.Options, CancellationToken.None));
        Assert.Contains("names no repository", e.Message, StringComparison.Ordinal);
    }
}
