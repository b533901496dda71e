using System.CommandLine;
using System.Text.Json;
using Kfci.Cli.Commands;
using Kfci.Testing;

namespace Kfci.Tests.ProwConfig;

public sealed class PlanCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kfci-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = new RootCommand { PlanCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await root.Parse(["plan", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Plan_JsonFormat_FollowsTheContract()
    {
        var config = WriteFile("prow_config.yaml", """
            workflows:
              - name: e2e
                workflow: test/e2e.yaml
                job_types: [presubmit]
                include_dirs: [py/*]
              - name: docs
                workflow: test/docs.yaml
                include_dirs: [docs/*]
              - name: legacy
                py_func: a.b.create_workflow
            """);
        var changed = WriteFile("changed.txt", "py/kubeflow/x.py\r\n\nREADME.md\n");

        var (exit, stdout, stderr) = await RunAsync(
            "--prow-config", config, "--job-type", "presubmit", "--changed-files", changed, "--job-name", "kubeflow-presubmit",
            "--build-id", "1234", "--repo-owner", "kubeflow", "--repo-name", "testing", "--pull-number", "77", "--pull-sha", "123abcdef",
            "--base-sha", "feedbeef", "--base-ref", "master", "--format", "json");

        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        using var doc = JsonDocument.Parse(stdout);
        var workflows = doc.RootElement.GetProperty("workflows").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], workflows.Select(w => w.GetProperty("index").GetInt32()));
        Assert.Equal(["e2e", "docs", "legacy"], workflows.Select(w => w.GetProperty("name").GetString()));
        Assert.Equal([true, false, true], workflows.Select(w => w.GetProperty("selected").GetBoolean()));
        Assert.Equal([true, true, false], workflows.Select(w => w.GetProperty("supported").GetBoolean()));
        Assert.All(workflows, w => Assert.Equal(w.GetProperty("selected").GetBoolean(), w.TryGetProperty("workflowName", out _)));
        Assert.Matches("^kubeflow-presubmit-e2e-77-123abcd-1234-[0-9a-f]{4}$", workflows[0].GetProperty("workflowName").GetString());
        Assert.Contains("matched 'py/kubeflow/x.py' by 'py/*'", workflows[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("py_func", workflows[2].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.All(workflows, w => Assert.Equal(
            w.TryGetProperty("workflowName", out _) ? 6 : 5,
            w.EnumerateObject().Count()));
    }

    [Fact]
    public async Task Plan_SameArgumentsTwice_SameNames()
    {
        var config = Fixtures.PathOf("prow_config/kubeflow_examples.yaml");

        var first = await RunAsync("--prow-config", config, "--job-type", "periodic", "--format", "json");
        var second = await RunAsync("--prow-config", config, "--job-type", "periodic", "--format", "json");

        Assert.Equal(first.Out, second.Out);
    }

    [Fact]
    public async Task Plan_DefaultFormat_IsATableWithEveryEntry()
    {
        var (exit, stdout, _) = await RunAsync("--prow-config", Fixtures.PathOf("prow_config/kubeflow_kubeflow.yaml"), "--job-type", "presubmit");

        Assert.Equal(0, exit);
        Assert.StartsWith("#", stdout, StringComparison.Ordinal);
        Assert.Contains("common-ui", stdout, StringComparison.Ordinal);
        Assert.Contains("0 of 61 workflows selected", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--job-type", "presubmit")]
    [InlineData("--prow-config", "MISSING", "--job-type", "presubmit")]
    [InlineData("--prow-config", "CONFIG", "--job-type", "nightly")]
    [InlineData("--prow-config", "CONFIG", "--job-type", "presubmit", "--format", "xml")]
    [InlineData("--prow-config", "CONFIG", "--job-type", "presubmit", "--pull-number", "abc")]
    [InlineData("--prow-config", "CONFIG", "--job-type", "presubmit", "--unknown", "x")]
    [InlineData("--prow-config", "BAD", "--job-type", "presubmit")]
    [InlineData("--prow-config", "CONFIG", "--job-type", "presubmit", "--changed-files", "MISSING")]
    public async Task Plan_BadInput_OneLineOnStderrExit2(params string[] args)
    {
        var config = WriteFile("ok.yaml", "workflows: []");
        var bad = WriteFile("bad.yaml", "workflows:\n  - name: a\n    workflow: ../../etc/passwd\n");
        var resolved = args.Select(a => a switch
        {
            "CONFIG" => config,
            "BAD" => bad,
            "MISSING" => Path.Combine(_dir, "missing"),
            _ => a,
        }).ToArray();

        var (exit, stdout, stderr) = await RunAsync(resolved);

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith("kfci: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }
}
