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
    [InlineData("periodics:\n- name: a b\n", "job name 'a b'")]
    [InlineData("periodics:\n- name: a\n- name: a\n", "periodic a is declared twice")]
    [InlineData("periodics:\n- name: a\n  extra_refs:\n  - org: ../x\n    repo: r\n", "extra_refs[0].org")]
    [InlineData("periodics:\n- name: a\n  extra_refs:\n  - org: o\n    repo: r\n    base_ref: \"-x\"\n", "not a safe git ref name")]
    [InlineData("periodics:\n- name: a\n  extra_refs: {org: o}\n", "extra_refs must be a list")]
    [InlineData("periodics:\n- name: a\n  extra_refs:\n  - repo: r\n", "are not Prow refs")]
    [InlineData("- just a list\n", "is a mapping")]
    [InlineData("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "jobs.yaml")]
    [InlineData("periodics: []\n---\nperiodics: []\n", "jobs.yaml")]
    public void Parse_HostileOrMalformed_OneLineErrorNamingTheProblem(string yaml, string expected)
    {
        var e = Assert.Throws<ProwJobConfigException>(() => Parse(yaml));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
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
