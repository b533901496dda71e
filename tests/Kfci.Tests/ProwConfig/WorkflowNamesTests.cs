using System.Text.RegularExpressions;
using Kfci.Prow;
using Kfci.ProwConfig;

namespace Kfci.Tests.ProwConfig;

public sealed partial class WorkflowNamesTests
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    private static ProwJobSpec Presubmit(string jobName = "kubeflow-presubmit", string buildId = "1234") =>
        new(JobType.Presubmit, jobName, buildId, new Refs { Org = "o", Repo = "r", BaseRef = "master", BaseSha = "feedbeef99", Pulls = [new Pull { Number = 77, Sha = "123abcdef" }] }, []);

    [Fact]
    public void For_Presubmit_IsKubeflowForm()
    {
        var job = Presubmit();

        var name = Assert.Single(WorkflowNames.For(job, ["wf"]));

        // kubeflow's own unit test expected kubeflow-presubmit-wf-77-123abc-1234-[0-9a-z]{4}.
        Assert.Equal($"kubeflow-presubmit-wf-77-123abcd-1234-{job.Run.NameSalt}", name);
    }

    [Fact]
    public void For_Postsubmit_UsesBaseShaAndLastFourOfBuild()
    {
        var job = new ProwJobSpec(JobType.Postsubmit, "kf-postsubmit", "1258197944759226371", new Refs { Org = "o", Repo = "r", BaseRef = "master", BaseSha = "9aecf80123" }, []);

        Assert.Equal($"kf-postsubmit-gis-9aecf80-6371-{job.Run.NameSalt}", WorkflowNames.For(job, ["gis"])[0]);
    }

    [Fact]
    public void For_SameJob_SameNamesEveryTime()
    {
        Assert.Equal(WorkflowNames.For(Presubmit(), ["a", "b"]), WorkflowNames.For(Presubmit(), ["a", "b"]));
        Assert.NotEqual(WorkflowNames.For(Presubmit(), ["a"]), WorkflowNames.For(Presubmit(buildId: "1235"), ["a"]));
    }

    [Fact]
    public void For_LongAndInvalidNames_ValidLabelsKeepingTheSuffix()
    {
        var job = Presubmit(jobName: "Kubeflow_" + new string('x', 80), buildId: "99991234");
        var names = WorkflowNames.For(job, ["Notebook Server.Jupyter/TF", "b"]);

        Assert.All(names, n => Assert.Matches(Dns1123Label(), n));
        Assert.All(names, n => Assert.True(n.Length <= WorkflowNames.MaxLength, n));
        Assert.All(names, n => Assert.StartsWith("kubeflow-xxx", n, StringComparison.Ordinal));
        Assert.All(names, n => Assert.Matches($"-77-123abcd-1234(-[0-9]+)?-{job.Run.NameSalt}$", n));
    }

    [Fact]
    public void For_DuplicateEntryNames_UniqueByIndex()
    {
        var job = Presubmit();

        var names = WorkflowNames.For(job, ["jwa-build", "other", "jwa-build"]);

        Assert.Equal(3, names.Distinct().Count());
        Assert.Equal($"kubeflow-presubmit-jwa-build-77-123abcd-1234-2-{job.Run.NameSalt}", names[2]);
    }

    [Fact]
    public void For_NamesThatCollideOnlyAfterShortening_StillUnique()
    {
        var job = Presubmit(jobName: new string('j', 70));

        var names = WorkflowNames.For(job, ["first-entry", "second-entry"]);

        Assert.Equal(2, names.Distinct().Count());
        Assert.All(names, n => Assert.True(n.Length <= 63));
    }

    [Fact]
    public void For_KubeflowKubeflowFixture_AllUniqueValidLabels()
    {
        var config = ProwConfigParserTests.Fixture("kubeflow_kubeflow.yaml");

        var names = WorkflowNames.For(Presubmit(jobName: "kubeflow-kubeflow-presubmit"), config.Workflows.Select(w => w.Name).ToList());

        Assert.Equal(config.Workflows.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches(Dns1123Label(), n));
        Assert.All(names, n => Assert.True(n.Length <= 63, n));
    }
}
