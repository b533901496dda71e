using System.Diagnostics;
using System.Xml.Linq;
using Kfci.Cli.Local;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Tests.Infra;
using YamlDotNet.RepresentationModel;

namespace Kfci.Tests.Local;

/// <summary>
/// scripts/example-repo.sh makes a real git repository from examples/python-presubmit whose prow_config.yaml plans as
/// the README says, whose workflows use only what the local engine runs, and whose test suite passes (or, --broken, fails).
/// </summary>
public sealed class ExampleRepoTests : IDisposable
{
    private readonly string _root = RepositoryRoot.Find();
    private readonly string _temp = Directory.CreateTempSubdirectory("kfci-example-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private (int Exit, string Output) Run(string command, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    private string MakeRepo(params string[] flags)
    {
        var dest = Path.Combine(_temp, "repo");
        var (exit, output) = Run("bash", _root, [Path.Combine(_root, "scripts", "example-repo.sh"), dest, .. flags]);
        Assert.True(exit == 0, output);
        Assert.Equal(dest, output.Trim());
        return dest;
    }

    private string Git(string repo, params string[] args)
    {
        var (exit, output) = Run("git", repo, args);
        Assert.True(exit == 0, output);
        return output.Trim();
    }

    [Fact]
    public void Script_MakesAMainBranchAndACheckedOutPullRequestBranch()
    {
        var repo = MakeRepo();

        Assert.Equal("feature", Git(repo, "symbolic-ref", "--short", "HEAD"));
        Assert.Equal("", Git(repo, "status", "--porcelain"));
        var mergeBase = Git(repo, "merge-base", "main", "feature");
        Assert.Equal(Git(repo, "rev-parse", "main"), mergeBase);
        Assert.Equal(["calc/arith.py", "tests/test_mul.py"], Git(repo, "diff", "--name-only", mergeBase, "feature").Split('\n'));
    }

    [Fact]
    public async Task ProwConfig_PlansEachJobTypeAsDocumented()
    {
        var repo = MakeRepo();
        var config = ProwConfigParser.Parse(await File.ReadAllBytesAsync(Path.Combine(repo, "prow_config.yaml")));
        var changed = Git(repo, "diff", "--name-only", "main", "feature").Split('\n');
        var refs = new Refs { Org = "local", Repo = "repo", BaseRef = "main", BaseSha = Git(repo, "rev-parse", "main"), Pulls = [new Pull { Number = 1, Sha = Git(repo, "rev-parse", "feature") }] };

        string[] Selected(JobType type, IReadOnlyList<string> files) =>
            Planner.Plan(config, new ProwJobSpec(type, "python-" + type.ToProwString(), "1", type == JobType.Periodic ? null : refs, type == JobType.Periodic ? [refs] : []), files)
                .Where(p => p.Selected).Select(p => p.Name).ToArray();

        Assert.All(config.Workflows, w => Assert.True(w.IsSupported, w.Name));
        Assert.Equal(["unit-tests"], Selected(JobType.Presubmit, changed));
        Assert.Equal(["docs-check"], Selected(JobType.Presubmit, ["docs/index.md"]));
        Assert.Equal(["unit-tests", "post-merge"], Selected(JobType.Postsubmit, changed));
        Assert.Empty(Selected(JobType.Postsubmit, ["docs/index.md"]));
        Assert.Equal(["nightly"], Selected(JobType.Periodic, []));
    }

    [Fact]
    public void Workflows_UseOnlyWhatTheLocalEngineRuns()
    {
        var repo = MakeRepo();
        var config = ProwConfigParser.Parse(File.ReadAllBytes(Path.Combine(repo, "prow_config.yaml")));

        foreach (var path in config.Workflows.Select(w => w.Workflow!).Distinct())
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(Path.Combine(repo, path))));
            var workflow = (YamlMappingNode)stream.Documents[0].RootNode;
            Assert.Equal("Workflow", workflow["kind"].ToString());
            var spec = (YamlMappingNode)workflow["spec"];
            var claim = ((YamlMappingNode)((YamlSequenceNode)spec["volumes"])[0])["persistentVolumeClaim"];
            Assert.Equal("nfs-external", ((YamlMappingNode)claim)["claimName"].ToString());
            foreach (var template in ((YamlSequenceNode)spec["templates"]).Cast<YamlMappingNode>())
            {
                var kinds = template.Children.Keys.Select(k => k.ToString()).Intersect(["container", "script", "steps", "dag", "resource", "suspend", "containerSet", "http", "plugin", "data"]).ToList();
                Assert.True(kinds.Count == 1 && kinds[0] is "container" or "script" or "steps" or "dag", $"{path}: template {template["name"]} is {string.Join(",", kinds)}");
                if (template.Children.TryGetValue("script", out var script))
                {
                    var mount = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)script)["volumeMounts"])[0];
                    Assert.Equal("/mnt/test-data-volume", mount["mountPath"].ToString());
                }
            }
        }
    }

    [Theory]
    [InlineData(false, 0, 0)]
    [InlineData(true, 1, 1)]
    public void PullRequestBranch_TestSuite_PassesOrFailsAndWritesJUnit(bool broken, int exitCode, int failures)
    {
        var repo = MakeRepo(broken ? ["--broken"] : []);
        var junit = Path.Combine(_temp, "artifacts", "junit_unit-tests.xml");

        var (exit, output) = Run("python3", repo, "-B", "tests/run_tests.py", junit);

        Assert.True(exit == exitCode, output);
        var suite = XDocument.Load(junit).Root!;
        Assert.Equal("testsuite", suite.Name.LocalName);
        Assert.Equal("4", suite.Attribute("tests")!.Value);
        Assert.Equal(failures.ToString(System.Globalization.CultureInfo.InvariantCulture), suite.Attribute("failures")!.Value);
    }

    [Fact]
    public void Script_RefusesToReplaceADirectoryItDidNotMake()
    {
        var dest = Directory.CreateDirectory(Path.Combine(_temp, "precious")).FullName;
        File.WriteAllText(Path.Combine(dest, "keep.txt"), "mine");

        var (exit, output) = Run("bash", _root, Path.Combine(_root, "scripts", "example-repo.sh"), dest);

        Assert.Equal(2, exit);
        Assert.Contains("is not an example repository made by this script", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dest, "keep.txt")));
    }

    [Fact]
    public async Task LocalRepository_OfTheExample_IsNamedLocalAndGivesPresubmitRefsFromGit()
    {
        var repo = MakeRepo();
        var local = await LocalRepository.InspectAsync(repo, CancellationToken.None);
        var options = LocalRunOptions.Parse(repo, "presubmit", null, null, null, null, null, null, null, null);

        var refs = await options.RefsAsync(local, "/clone/from/here", CancellationToken.None);

        Assert.Equal(("local", "repo"), (local.Name.Org, local.Name.Repo));
        Assert.Equal("repo-presubmit", options.JobNameFor(local));
        Assert.Equal(("main", Git(repo, "rev-parse", "main"), "/clone/from/here"), (refs.BaseRef, refs.BaseSha, refs.CloneUri));
        Assert.Equal((1, Git(repo, "rev-parse", "HEAD")), (refs.FirstPull!.Number, refs.FirstPull.Sha));
    }

    [Theory]
    [InlineData("https://github.com/kubeflow/testing.git", "kubeflow", "testing")]
    [InlineData("git@github.com:kubeflow/pipelines.git", "kubeflow", "pipelines")]
    [InlineData("ssh://git@github.com/org-1/repo.x", "org-1", "repo.x")]
    [InlineData("https://gitlab.com/a/b.git", "local", "my repo")]
    [InlineData(null, "local", "my repo")]
    public void NameFrom_GitHubOriginElseLocalDirectoryName(string? origin, string org, string repo)
    {
        var name = LocalRepository.NameFrom(origin, "/x/my repo");

        Assert.Equal((org, repo.Replace(' ', '-')), (name.Org, name.Repo));
    }

    [Fact]
    public async Task LinkInto_LinksTheRepositoryUnderOrgRepo_AndReplacesAnOldLink()
    {
        var repo = MakeRepo();
        var gitRoot = Path.Combine(_temp, "repos");
        var local = await LocalRepository.InspectAsync(repo, CancellationToken.None);

        var link = local.LinkInto(gitRoot);
        var again = (local with { Directory = _temp }).LinkInto(gitRoot);

        Assert.Equal(Path.Combine(gitRoot, "local", "repo"), link);
        Assert.Equal(link, again);
        Assert.Equal(_temp, new FileInfo(link).LinkTarget);
    }
}
