using System.Diagnostics;
using System.Text.Json;
using Kfci.Testing;
using Kfci.Tests.Infra;

namespace Kfci.Tests.Local;

/// <summary>
/// The main job end to end, through ./kfci as a user runs it: the local stack, the example presubmit passing, its broken
/// variant failing, and a repository without prow_config.yaml refused with exit 2 while the stack stays healthy.
/// </summary>
public sealed class EndToEndTests : IDisposable
{
    private readonly string _root = RepositoryRoot.Find();
    private readonly string _home = StackDirectories.Create("kfci-e2e-home-");

    public void Dispose()
    {
        Kfci("local", "down");
        StackDirectories.Delete(_home);
    }

    private (int Exit, string Out, string Err) Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        start.Environment["KFCI_HOME"] = _home;
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    private (int Exit, string Out, string Err) Kfci(params string[] args) => Run(Path.Combine(_root, "kfci"), args);

    /// <summary>
    /// The local results directory is a bucket with a name: the run prints <c>gs://kfci-local/&lt;dir&gt;</c> beside the
    /// directory holding it, and the presubmit alias Prow's readers follow holds that same name.
    /// </summary>
    private static void AssertLocalBucketNamesTheBuild(string output, string job)
    {
        var match = System.Text.RegularExpressions.Regex.Match(output, @"Results: gs://kfci-local/(?<dir>pr-logs/pull/\S+/" + job + @"/(?<build>\d+)) \((?<file>[^)]+)\)");
        Assert.True(match.Success, output);
        var dir = match.Groups["dir"].Value;
        var file = match.Groups["file"].Value;
        Assert.EndsWith(dir, file.Replace('\\', '/'), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(file, "finished.json")), file);
        var root = file[..^dir.Length];
        var alias = Path.Combine(root, "pr-logs", "directory", job, match.Groups["build"].Value + ".txt");
        Assert.Equal($"gs://kfci-local/{dir}", File.ReadAllText(alias));
    }

    private string ExampleRepo(string name, params string[] flags)
    {
        var (exit, stdout, stderr) = Run("bash", [Path.Combine(_root, "scripts", "example-repo.sh"), Path.Combine(_home, name), .. flags]);
        Assert.True(exit == 0, stderr);
        return stdout.Trim();
    }

    [Fact]
    public void LocalRun_ExamplePresubmit_SucceedsThenTheBrokenOneFails_AndAMissingConfigIsRefused()
    {
        var good = ExampleRepo("good");
        var results = Path.Combine(_home, "copied");
        var pass = Kfci("local", "run", "--repo", good, "--job-type", "presubmit", "--format", "json", "--results-dir", results, "--timeout", "5");
        Assert.True(pass.Exit == 0, pass.Out + pass.Err);
        using (var answer = JsonDocument.Parse(pass.Out))
        {
            Assert.Equal("SUCCESS", answer.RootElement.GetProperty("result").GetString());
            Assert.Equal("finished", answer.RootElement.GetProperty("state").GetString());
        }

        foreach (var file in new[] { "started.json", "finished.json", "build-log.txt" })
        {
            Assert.True(File.Exists(Path.Combine(results, file)), file);
        }

        Assert.NotEmpty(Directory.GetFiles(Path.Combine(results, "artifacts"), "junit*.xml"));
        using (var finished = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "finished.json"))))
        {
            Assert.Equal("SUCCESS", finished.RootElement.GetProperty("result").GetString());
        }

        var broken = ExampleRepo("broken", "--broken");
        var fail = Kfci("local", "run", "--repo", broken, "--job-type", "presubmit", "--job-name", "python-broken", "--timeout", "5");
        Assert.True(fail.Exit == 1, fail.Out + fail.Err);
        Assert.Contains("FAILURE", fail.Out, StringComparison.Ordinal);
        AssertLocalBucketNamesTheBuild(fail.Out, "python-broken");

        var bare = Repository("bare", ("README.md", "no config\n"));
        var refused = Kfci("local", "run", "--repo", bare, "--job-type", "periodic", "--timeout", "2");
        Assert.True(refused.Exit == 2, refused.Out + refused.Err);
        Assert.Single(refused.Err.Trim().Split('\n'));
        Assert.Contains("prow_config.yaml", refused.Err, StringComparison.Ordinal);

        var invalid = Repository("invalid", ("prow_config.yaml", "workflows: [ {name: a\n"));
        var rejected = Kfci("local", "run", "--repo", invalid, "--job-type", "periodic", "--job-name", "invalid-config", "--timeout", "2");
        Assert.True(rejected.Exit == 2, rejected.Out + rejected.Err);
        Assert.Single(rejected.Err.Trim().Split('\n'));

        var unsupported = Repository(
            "unsupported",
            ("prow_config.yaml", "workflows:\n  - name: sidecar\n    workflow: wf.yaml\n"),
            ("wf.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: x-}\nspec:\n  entrypoint: main\n  templates:\n"
                + "    - name: main\n      container: {image: busybox, command: [\"true\"]}\n      sidecars: [{name: db, image: redis}]\n"));
        var failed = Kfci("local", "run", "--repo", unsupported, "--job-type", "periodic", "--job-name", "unsupported-feature", "--timeout", "2");
        Assert.True(failed.Exit == 1, failed.Out + failed.Err);
        Assert.Contains("sidecars", failed.Out + failed.Err, StringComparison.Ordinal);

        Assert.Equal(0, Kfci("local", "status").Exit);
    }

    [Fact]
    public void ProwOwnedPresubmit_KfciWaitAsTheProwPod_ExitsWithKfcisVerdict_AndKfciWritesOnlyArtifacts()
    {
        var broken = ExampleRepo("broken", "--broken");
        var brokenResults = Path.Combine(_home, "broken-results");
        var fail = Kfci("local", "run", "--repo", broken, "--job-type", "presubmit", "--owner", "prow", "--job-name", "python-broken", "--results-dir", brokenResults, "--timeout", "5");

        Assert.True(fail.Exit == 1, fail.Out + fail.Err);
        Assert.Contains("kfci wait: job python-broken (presubmit), build ", fail.Out, StringComparison.Ordinal);
        Assert.Contains("step ", fail.Out, StringComparison.Ordinal);
        Assert.Contains("FAILURE: python-broken build ", fail.Out, StringComparison.Ordinal);
        var files = Directory.GetFiles(brokenResults, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(brokenResults, f).Replace('\\', '/')).ToList();
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.StartsWith("artifacts/", f, StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("artifacts/junit_", StringComparison.Ordinal) && f.EndsWith("__junit_unit-tests.xml", StringComparison.Ordinal));
        Assert.Contains("artifacts/kfci-finished.json", files);
        var bucket = Path.Combine(_home, "results");
        Assert.Empty(Directory.GetFiles(bucket, "latest-build.txt", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(bucket, "finished.json", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(bucket, "started.json", SearchOption.AllDirectories));

        // Crier's URL-less triggered report started nothing: one build of the job, none named after the job itself.
        var jobFolder = Assert.Single(
            Directory.GetDirectories(bucket, "python-broken", SearchOption.AllDirectories),
            d => !d.Contains(global::Kfci.Storage.LocalDirectoryResultsStore.MetaDirectoryName, StringComparison.Ordinal));
        Assert.Matches("^[0-9]{19}$", Path.GetFileName(Assert.Single(Directory.GetDirectories(jobFolder))));

        var good = ExampleRepo("good");
        var pass = Kfci("local", "run", "--repo", good, "--job-type", "presubmit", "--owner", "prow", "--job-name", "python-good", "--timeout", "5", "--format", "json");
        Assert.True(pass.Exit == 0, pass.Out + pass.Err);
        Assert.Contains("SUCCESS: python-good build ", pass.Err, StringComparison.Ordinal);
        using var answer = System.Text.Json.JsonDocument.Parse(pass.Out);
        Assert.Equal(("prow", 0, "SUCCESS"), (answer.RootElement.GetProperty("owner").GetString(), answer.RootElement.GetProperty("exitCode").GetInt32(), answer.RootElement.GetProperty("result").GetString()));
    }

    /// <summary>A one-commit git repository with these files.</summary>
    private string Repository(string name, params (string Path, string Content)[] files)
    {
        var directory = Path.Combine(_home, name);
        Directory.CreateDirectory(directory);
        Assert.Equal(0, Run("git", "-C", directory, "init", "-q", "-b", "main").Exit);
        foreach (var (path, content) in files)
        {
            File.WriteAllText(Path.Combine(directory, path), content);
        }

        Assert.Equal(0, Run("git", "-C", directory, "add", "-A").Exit);
        Assert.Equal(0, Run("git", "-C", directory, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", "init").Exit);
        return directory;
    }
}
