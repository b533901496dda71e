using Kfci.Prow;
using Kfci.ProwConfig;

namespace Kfci.Tests.ProwConfig;

public sealed class PlannerTests
{
    /// <summary>
    /// Hand-chosen changed files per fixture and job type; the expected selections were computed by a Python
    /// re-statement of run_e2e_workflow.py's filter (PyYAML + fnmatch), not by this code.
    /// </summary>
    public static TheoryData<string, JobType, string, string> FixturePlans() => new()
    {
        { "kubeflow_kubeflow.yaml", JobType.Presubmit, "components/access-management/main.go", "1" },
        { "kubeflow_kubeflow.yaml", JobType.Presubmit, "releasing/version/VERSION", "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20" },
        { "kubeflow_kubeflow.yaml", JobType.Postsubmit, "components/centraldashboard/app/x.ts", "24" },
        { "kubeflow_kubeflow.yaml", JobType.Periodic, "", "" },
        { "kubeflow_kubeflow.yaml", JobType.Presubmit, "README.md", "" },
        { "kubeflow_examples.yaml", JobType.Presubmit, "code_search/src/x.py;pytorch_mnist/a", "0,3" },
        { "kubeflow_examples.yaml", JobType.Postsubmit, "xgboost_ames_housing/x", "2,4" },
        { "kubeflow_examples.yaml", JobType.Periodic, "", "1,3,4" },
        { "kubeflow_fairing.yaml", JobType.Presubmit, "", "0" },
        { "kubeflow_fairing.yaml", JobType.Postsubmit, "a", "" },
        { "kubeflow_kfctl.yaml", JobType.Periodic, "", "0" },
        { "kubeflow_kfctl.yaml", JobType.Presubmit, "py/x", "" },
        { "kubeflow_pytorch-operator.yaml", JobType.Postsubmit, "x", "1" },
        { "history/kubeflow_kubeflow@9741891.yaml", JobType.Presubmit, "bootstrap/cmd/main.go", "0,3" },
        { "history/kubeflow_kubeflow@9741891.yaml", JobType.Postsubmit, "testing/x.py", "0,1,2,3,11,12,13" },
        { "history/kubeflow_kubeflow@9741891.yaml", JobType.Periodic, "", "0,1,2,3,4,11,12,13" },
        { "history/kubeflow_manifests@e144160.yaml", JobType.Presubmit, "kfdef/kfctl_istio_dex.v1.2.0.yaml", "0" },
        { "history/kubeflow_katib@33f8395.yaml", JobType.Presubmit, "pkg/apis/controller/apis.go", "0" },
        { "history/kubeflow_katib@33f8395.yaml", JobType.Presubmit, "docs/README.md", "" },
        { "history/kubeflow_testing@9d395fc.yaml", JobType.Presubmit, "py/x", "1,2" },
        { "history/kserve_kserve@638fff6.yaml", JobType.Postsubmit, "python/kserve/setup.py", "1" },
        { "history/kubeflow_training-operator@7cdc253.yaml", JobType.Presubmit, "go.mod", "0" },
        { "kubeflow_testing.yaml", JobType.Presubmit, "x", "" },
        { "kubeflow_pipelines.yaml", JobType.Periodic, "", "" },
    };

    private static ProwJobSpec Job(JobType type) => type switch
    {
        JobType.Periodic => new(type, "ci-periodic", "1234", null, []),
        _ => new(type, "kubeflow-job", "1234", new Refs
        {
            Org = "kubeflow",
            Repo = "kubeflow",
            BaseRef = "master",
            BaseSha = "0123456789abcdef",
            Pulls = type == JobType.Presubmit ? [new Pull { Number = 77, Sha = "123abcdef" }] : null,
        }, []),
    };

    [Theory]
    [MemberData(nameof(FixturePlans))]
    public void Plan_Fixture_SelectsWhatKubeflowWould(string fixture, JobType type, string changed, string expected)
    {
        var config = ProwConfigParserTests.Fixture(fixture);
        var files = changed.Split(';', StringSplitOptions.RemoveEmptyEntries);

        var plan = Planner.Plan(config, Job(type), files);

        Assert.Equal(config.Workflows.Count, plan.Count);
        Assert.Equal(Enumerable.Range(0, plan.Count), plan.Select(p => p.Index));
        Assert.Equal(expected, string.Join(',', plan.Where(p => p.Selected).Select(p => p.Index)));
        Assert.All(plan, p => Assert.Equal(p.Selected, p.WorkflowName is not null));
        Assert.All(plan, p => Assert.False(p.Supported));
        Assert.All(plan, p => Assert.False(string.IsNullOrWhiteSpace(p.Reason)));
    }

    private static WorkflowEntry Entry(string[]? jobTypes = null, string[]? include = null, string[]? exclude = null) => new()
    {
        Index = 0,
        Name = "e2e",
        JobTypes = jobTypes ?? [],
        IncludeDirs = include ?? [],
        ExcludeDirs = exclude ?? [],
        Workflow = "test/e2e.yaml",
    };

    [Theory]
    [InlineData(JobType.Postsubmit, "presubmit", "", "", "py/foo.py", false, "job type postsubmit not in [presubmit]")]
    [InlineData(JobType.Presubmit, "presubmit", "py/*", "", "py/foo.py", true, "matched 'py/foo.py' by 'py/*'")]
    [InlineData(JobType.Presubmit, "", "a/*;b/*", "", "py/foo.py", false, "no changed file matches include_dirs [a/*, b/*]")]
    [InlineData(JobType.Periodic, "", "a/*", "", "", true, "periodic runs ignore include_dirs")]
    [InlineData(JobType.Presubmit, "", "", "docs/*", "docs/a.md;docs/b.md", false, "all changed files excluded by exclude_dirs [docs/*]")]
    [InlineData(JobType.Presubmit, "", "*", "docs/*", "docs/a.md;py/x.py", true, "matched 'py/x.py' by '*'")]
    [InlineData(JobType.Presubmit, "", "docs/*", "docs/a.md", "docs/a.md;docs/b.md", true, "matched 'docs/b.md' by 'docs/*'")]
    [InlineData(JobType.Presubmit, "", "", "docs/*", "", false, "no changed files")]
    [InlineData(JobType.Periodic, "", "", "docs/*", "", true, "periodic runs ignore")]
    [InlineData(JobType.Presubmit, "", "", "", "", true, "no include_dirs")]
    [InlineData(JobType.Batch, "presubmit", "py/*", "", "py/x", true, "job type batch in [presubmit]")]
    [InlineData(JobType.Batch, "postsubmit", "", "", "py/x", false, "job type batch not in [postsubmit]")]
    public void Decide_Rules_DecisionAndReason(JobType type, string jobTypes, string include, string exclude, string changed, bool selected, string reason)
    {
        static string[] Split(string text) => text.Split(';', StringSplitOptions.RemoveEmptyEntries);
        var entry = Entry(Split(jobTypes), Split(include), Split(exclude));

        var decision = Planner.Decide(entry, type, Split(changed));

        Assert.Equal(selected, decision.Selected);
        Assert.Contains(reason, decision.Reason, StringComparison.Ordinal);
    }
}
