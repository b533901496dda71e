using System.Globalization;
using System.Text;
using Kfci.ProwJobs;
using Kfci.Sources;
using Kfci.Storage;
using Kfci.Testing;
using Kfci.Testing.Git;

namespace Kfci.Tests.ProwJobs;

public sealed class ProwJobConfigTests
{
    private static ProwJobConfig Parse(string yaml) => ProwJobConfig.Parse(Encoding.UTF8.GetBytes(yaml), "jobs.yaml");

    [Fact]
    public void Parse_KubeflowPeriodics_EveryPeriodicWithItsRefsIntervalAndAnnotations()
    {
        var config = ProwJobConfig.Parse(File.ReadAllBytes(Fixtures.PathOf("prow/kubeflow-periodics.yaml")), "kubeflow-periodics.yaml");

        Assert.Equal(9, config.Periodics.Count);
        var cleanup = config.Find("kubeflow-periodic-project-cleanup");
        var refs = Assert.Single(cleanup.ExtraRefs);
        Assert.Equal(("kubeflow", "pipelines", "master", true), (refs.Org, refs.Repo, refs.BaseRef, refs.WorkDir));
        Assert.Null(refs.BaseSha);
        Assert.Equal("1h", cleanup.Interval);
        Assert.True(cleanup.Decorate);
        Assert.Equal("sig-big-data", cleanup.Annotations["testgrid-dashboards"]);
        // The old style: the repository only in the container's env, which kfci does not read.
        Assert.Empty(config.Find("kubeflow-periodic-master").ExtraRefs);
        Assert.Null(config.Find("kubeflow-periodic-master").Decorate);
    }

    [Fact]
    public void Parse_ProwsOwnIntegrationPeriodics_CronAndNoRefs()
    {
        var config = ProwJobConfig.Parse(File.ReadAllBytes(Fixtures.PathOf("prow/integration-periodics.yaml")), "periodics.yaml");

        var job = config.Find("sleep-periodic");
        Assert.Equal("00 00 31 2 1", job.Cron);
        Assert.Empty(job.ExtraRefs);
        Assert.True(job.Decorate);
    }

    [Fact]
    public void Find_MisspelledName_ErrorListsTheCloseMatches()
    {
        var config = ProwJobConfig.Parse(File.ReadAllBytes(Fixtures.PathOf("prow/kubeflow-periodics.yaml")), "kubeflow-periodics.yaml");

        var e = Assert.Throws<ProwJobConfigException>(() => config.Find("kubeflow-periodic-mastr"));

        Assert.StartsWith("periodic job 'kubeflow-periodic-mastr' is not defined in Prow's job configuration kubeflow-periodics.yaml; close matches: kubeflow-periodic-master", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cleanup", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_NothingSimilar_SaysSo()
    {
        var e = Assert.Throws<ProwJobConfigException>(() => Parse("periodics:\n- name: alpha\n").Find("zzzzzzzzzz"));

        Assert.EndsWith("(1 periodics, none with a similar name)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("periodics: {a: 1}\n", "periodics must be a list")]
    [InlineData("- just a list\n", "is a mapping")]
    [InlineData("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "jobs.yaml")]
    [InlineData("periodics: []\n---\nperiodics: []\n", "jobs.yaml")]
    public void Parse_HostileOrMalformed_OneLineErrorNamingTheProblem(string yaml, string expected)
    {
        var e = Assert.Throws<ProwJobConfigException>(() => Parse(yaml));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("a", "- name: a\n  extra_refs:\n  - org: ../x\n    repo: r\n", "extra_refs[0].org")]
    [InlineData("a", "- name: a\n  extra_refs:\n  - org: o\n    repo: r\n    base_ref: \"-x\"\n", "not a safe git ref name")]
    [InlineData("a", "- name: a\n  extra_refs: {org: o}\n", "extra_refs must be a list")]
    [InlineData("a", "- name: a\n  extra_refs:\n  - repo: r\n", "are not Prow refs")]
    [InlineData("a", "- name: a\n- name: a\n", "declared 2 times")]
    [InlineData("a b", "- name: a b\n", "job name 'a b'")]
    public void Parse_OneBadPeriodic_TheOthersStillWorkAndTheBadOneSaysWhy(string name, string bad, string reason)
    {
        var config = Parse($"periodics:\n- name: good-before\n{bad}- name: good-after\n  extra_refs:\n  - {{org: o, repo: r, base_ref: main}}\n");

        Assert.Equal("main", config.Find("good-after").ExtraRefs[0].BaseRef);
        Assert.Empty(config.Find("good-before").ExtraRefs);
        var problem = Assert.Single(config.Problems);
        Assert.StartsWith($"jobs.yaml: periodic {name}", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        var e = Assert.Throws<ProwJobConfigException>(() => config.Find(name));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Parse_AnnotationsWithNewlinesAndANumericBaseRef_KeptAsProwReadsThem()
    {
        var config = Parse("periodics:\n- name: a\n  annotations:\n    description: |\n      line one\n      line two\n    testgrid-num-failures-to-alert: 3\n  extra_refs:\n  - org: o\n    repo: r\n    base_ref: 2024\n  - org: o\n    repo: s\n    base_ref: 1.10\n");

        var job = config.Find("a");
        Assert.Equal("line one\nline two\n", job.Annotations["description"]);
        Assert.Equal("3", job.Annotations["testgrid-num-failures-to-alert"]);
        Assert.Equal(["2024", "1.10"], job.ExtraRefs.Select(r => r.BaseRef));
        Assert.Empty(config.Problems);
    }

    [Fact]
    public void Parse_AnchorsAndMergeKeysOfARealisticConfig_EveryPeriodicWithItsMergedSettings()
    {
        var config = ProwJobConfig.Parse(File.ReadAllBytes(Fixtures.PathOf("prow/anchored-periodics.yaml")), "anchored-periodics.yaml");

        Assert.Empty(config.Problems);
        Assert.Equal(62, config.Periodics.Count);
        var nightly = config.Find("kubeflow-pipelines-periodic-07");
        Assert.True(nightly.Decorate);
        Assert.Equal("8h", nightly.Interval);
        Assert.Equal(["kubeflow/pipelines@master", "kubeflow/testing@master"], nightly.ExtraRefs.Select(r => $"{r.Org}/{r.Repo}@{r.BaseRef}"));
        Assert.Equal("sig-big-data", nightly.Annotations["testgrid-dashboards"]);
        var release = config.Find("kubeflow-pipelines-release-periodic");
        Assert.Equal("2024", Assert.Single(release.ExtraRefs).BaseRef);
        Assert.Equal("sig-release", release.Annotations["testgrid-dashboards"]);
        Assert.Equal("kubeflow-ci@example.com", release.Annotations["testgrid-alert-email"]);
        var overridden = config.Find("kubeflow-pipelines-overridden");
        Assert.False(overridden.Decorate);
        Assert.Equal(("pipelines", "v2.0-branch", true), (overridden.ExtraRefs[0].Repo, overridden.ExtraRefs[0].BaseRef, overridden.ExtraRefs[0].WorkDir));
    }

    [Fact]
    public void Parse_AliasBombWithoutAnAliasCountLimit_RefusedByTheExpandedNodeBudget()
    {
        var bomb = new StringBuilder("a: &a {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}\n");
        for (var level = 1; level <= 6; level++)
        {
            bomb.Append(CultureInfo.InvariantCulture, $"l{level}: &l{level}\n");
            for (var i = 0; i < 10; i++)
            {
                bomb.Append(CultureInfo.InvariantCulture, $"  c{i}: *{(level == 1 ? "a" : $"l{level - 1}")}\n");
            }
        }

        var e = Assert.Throws<ProwJobConfigException>(() => Parse(bomb.ToString()));

        Assert.Contains("alias bomb", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Source_FileInARepositoryAtABranchHead_ReadsTheHeadThere()
    {
        using var repository = TestGitRepository.Create();
        repository.Write("config/jobs/periodics.yaml", "periodics:\n- name: one\n");
        repository.Commit("jobs");
        var source = ProwJobConfigSource.Create("kubeflow/test-infra@master:config/jobs/periodics.yaml", LocalGitSource.OverRepository(repository.Directory), _ => throw new InvalidOperationException("no bucket"));

        var config = await source.LoadAsync(CancellationToken.None);

        Assert.Equal("one", Assert.Single(config.Periodics).Name);
    }

    [Fact]
    public async Task Source_ObjectInABucket_ReadThroughTheResultsStore()
    {
        var directory = Directory.CreateTempSubdirectory("kfci-bucket-").FullName;
        try
        {
            var store = new LocalDirectoryResultsStore(directory);
            await store.WriteAsync("prow/jobs.yaml", new MemoryStream("periodics:\n- name: from-gcs\n"u8.ToArray()), null, CancellationToken.None);
            string? asked = null;
            var source = ProwJobConfigSource.Create("gs://config-bucket/prow/jobs.yaml", LocalGitSource.OverRepository(directory), bucket => { asked = bucket; return store; });

            Assert.Equal("from-gcs", Assert.Single((await source.LoadAsync(CancellationToken.None)).Periodics).Name);
            Assert.Equal("config-bucket", asked);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Source_LocalFile_MissingIsAClearErrorAndReadsAreKeptForMaxAge()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("kfci-jobs-").FullName, "jobs.yaml");
        var source = ProwJobConfigSource.Create(file, LocalGitSource.OverRepository(Path.GetTempPath()), _ => throw new InvalidOperationException("no bucket"));

        var missing = await Assert.ThrowsAsync<ProwJobConfigException>(() => source.LoadAsync(CancellationToken.None));
        Assert.Equal($"Prow's job configuration {file} does not exist", missing.Message);

        File.WriteAllText(file, "periodics:\n- name: first\n");
        var first = await source.LoadAsync(CancellationToken.None);
        File.WriteAllText(file, "periodics:\n- name: second\n");
        Assert.Same(first, await source.LoadAsync(CancellationToken.None));
    }

    [Fact]
    public void Source_ContentInsteadOfALocation_ErrorNamesTheSettingNotTheContent()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ProwJobConfigSource.Create(
            "periodics:\n- name: x\n  env: [{name: TOKEN, value: ghp_notarealtoken}]", LocalGitSource.OverRepository(Path.GetTempPath()), _ => throw new InvalidOperationException("no bucket")));

        Assert.Contains("KFCI_PROW_JOBS", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_notarealtoken", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Parse_PeriodicWithPulls_RefusedWithItsName()
    {
        var config = Parse("periodics:\n- name: p\n  extra_refs:\n  - org: o\n    repo: r\n    base_ref: main\n    pulls: [{number: 1, sha: abcdef0}]\n");

        Assert.Contains("names pull requests", Assert.Single(config.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relative/jobs.yaml")]
    [InlineData("gs://")]
    [InlineData("org/repo:path")]
    [InlineData("https://example.com/jobs.yaml")]
    public void Source_UnknownLocation_SaysWhichFormsExist(string location)
    {
        var e = Assert.Throws<InvalidOperationException>(() => ProwJobConfigSource.Create(location, LocalGitSource.OverRepository(Path.GetTempPath()), _ => throw new InvalidOperationException("no bucket")));

        Assert.Contains("gs://BUCKET/OBJECT or ORG/REPO@BRANCH:PATH", e.Message, StringComparison.Ordinal);
    }
}
