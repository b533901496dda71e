using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using Kfci.Cli.Local;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Testing;
using Kfci.Tests.Infra;

namespace Kfci.Tests.Local;

/// <summary>
/// Periodics on the local stack, through ./kfci as a user runs them: a trigger naming only a branch, crier's report
/// of a Prow periodic (refs with base_ref only), and a periodic named only by its name and found in a Prow job
/// configuration file all test the branch's head and finish SUCCESS; a missing branch and an unknown job name each
/// end with one clear reason.
/// </summary>
public sealed class PeriodicEndToEndTests : IDisposable
{
    private const string ProwJobs = """
        periodics:
        - name: example-periodic
          interval: 8h
          decorate: true
          extra_refs:
          - org: local
            repo: example-repo
            base_ref: main
          annotations:
            testgrid-dashboards: kfci-local
          spec:
            containers:
            - image: gcr.io/k8s-prow/alpine:latest
              command: ["/bin/true"]
        - name: example-periodic-broken-branch
          interval: 8h
          extra_refs:
          - org: local
            repo: example-repo
            base_ref: no-such-branch
        """;

    private readonly string _root = RepositoryRoot.Find();
    private readonly string _home = StackDirectories.Create("kfci-e2e-periodic-");

    public void Dispose()
    {
        Kfci("local", "down");
        StackDirectories.Delete(_home);
    }

    [Fact]
    public async Task Periodics_BranchOnlyCrierAndNamed_SucceedAtTheBranchHead_AndBadNamesEndWithOneReason()
    {
        var repository = Path.Combine(_home, "repos", "local", "example-repo");
        var (made, _, madeErr) = Run("bash", Path.Combine(_root, "scripts", "example-repo.sh"), repository);
        Assert.True(made == 0, madeErr);
        var head = Run("git", "-C", repository, "rev-parse", "main").Out.Trim();
        var jobs = Path.Combine(_home, "prow-jobs.yaml");
        File.WriteAllText(jobs, ProwJobs);
        // kfci's own schedule, as Terraform declares it: every minute, so the scheduler stand-in fires during the test.
        var schedules = Path.Combine(_home, "periodics.tfvars.json");
        File.WriteAllText(schedules, """{"periodics": {"example-scheduled": {"schedule": "* * * * *", "repositories": [{"org": "local", "repo": "example-repo", "branch": "main"}]}}}""");
        var up = Kfci("local", "up", "--prow-jobs", jobs, "--periodics", schedules);
        Assert.True(up.Exit == 0, up.Out + up.Err);

        // 1. kfci trigger naming only the branch.
        var byBranch = Trigger("--job-name", "python-periodic", "--job-type", "periodic", "--repo-owner", "local", "--repo-name", "example-repo", "--base-ref", "main");
        // 2. crier's report of a Prow periodic: refs with base_ref only.
        var crierRun = new RunIdentity("prow-periodic", "1700000000000000001").RunId;
        await PublishCrierReportAsync("prow-periodic", "1700000000000000001");
        // 3. a periodic named only by its name, found in the Prow job configuration file.
        var named = Trigger("--job-name", "example-periodic", "--job-type", "periodic");

        // 4. kfci's own schedule: the scheduler stand-in publishes the periodic event at the next minute.
        var scheduled = await FirstRunOfAsync("example-scheduled");

        foreach (var runId in new[] { byBranch, crierRun, named, scheduled })
        {
            var run = await WaitFinishedAsync(runId);
            Assert.True(run["result"]?.GetValue<string>() == "SUCCESS", run.ToJsonString());
            var spec = JsonNode.Parse(run["jobSpec"]!.GetValue<string>())!;
            var refs = Assert.Single(spec["extra_refs"]!.AsArray())!;
            Assert.Equal(("local", "example-repo", "main", head), (refs["org"]!.GetValue<string>(), refs["repo"]!.GetValue<string>(), refs["base_ref"]!.GetValue<string>(), refs["base_sha"]!.GetValue<string>()));
            Assert.Contains(run["history"]!.AsArray(), h => h!["note"]?.GetValue<string>() == $"local/example-repo branch main resolved to {head}");
        }

        var started = JsonNode.Parse(File.ReadAllText(Path.Combine(_home, "results", "logs", "example-periodic", Show(named)["buildId"]!.GetValue<string>(), "started.json")))!;
        Assert.Equal($"main:{head}", started["repos"]!["local/example-repo"]!.GetValue<string>());
        Assert.Equal(Show(scheduled)["buildId"]!.GetValue<string>(), File.ReadAllText(Path.Combine(_home, "results", "logs", "example-scheduled", "latest-build.txt")).Trim());

        // A missing branch and an unknown job name: the run ends in error with one reason naming what is wrong.
        var missing = await WaitFinishedAsync(Trigger("--job-name", "python-periodic", "--job-type", "periodic", "--repo-owner", "local", "--repo-name", "example-repo", "--base-ref", "no-such-branch"));
        Assert.Equal("error", missing["state"]!.GetValue<string>());
        Assert.Contains("'no-such-branch'", Assert.Single(missing["errors"]!.AsArray())!.GetValue<string>(), StringComparison.Ordinal);

        var unknown = await WaitFinishedAsync(Trigger("--job-name", "example-periodc", "--job-type", "periodic"));
        Assert.Equal("error", unknown["state"]!.GetValue<string>());
        var reason = Assert.Single(unknown["errors"]!.AsArray())!.GetValue<string>();
        Assert.Contains("'example-periodc' is not defined", reason, StringComparison.Ordinal);
        Assert.Contains("close matches: example-periodic", reason, StringComparison.Ordinal);

        Assert.Equal(0, Kfci("local", "status").Exit);
    }

    private string Trigger(params string[] args)
    {
        var (exit, stdout, stderr) = Kfci(["trigger", .. args]);
        Assert.True(exit == 0, stdout + stderr);
        return stdout.Trim().Split('\n')[^1];
    }

    /// <summary>The id of the first run of <paramref name="job"/>, waiting for its schedule to fire.</summary>
    private async Task<string> FirstRunOfAsync(string job)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            var (exit, stdout, _) = Kfci("runs", "list", "--job", job, "--format", "json");
            if (exit == 0 && JsonNode.Parse(stdout)!["runs"]!.AsArray().LastOrDefault() is { } run)
            {
                return run["runId"]!.GetValue<string>();
            }

            await Task.Delay(2000);
        }

        throw new TimeoutException($"no run of {job} was started by its schedule");
    }

    private JsonObject Show(string runId)
    {
        var (exit, stdout, stderr) = Kfci("runs", "show", runId, "--format", "json");
        Assert.True(exit == 0, stdout + stderr);
        return JsonNode.Parse(stdout)!.AsObject();
    }

    /// <summary>Polls the run until it is finished or in error (or time is up: the last state is then in the failure).</summary>
    private async Task<JsonObject> WaitFinishedAsync(string runId)
    {
        var clock = Stopwatch.StartNew();
        JsonObject? run = null;
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            var (exit, stdout, _) = Kfci("runs", "show", runId, "--format", "json");
            if (exit == 0)
            {
                run = JsonNode.Parse(stdout)!.AsObject();
                if (run["state"]?.GetValue<string>() is "finished" or "error" or "aborted")
                {
                    return run;
                }
            }

            await Task.Delay(2000);
        }

        throw new TimeoutException($"run {runId} did not finish: {run?.ToJsonString()}");
    }

    private async Task PublishCrierReportAsync(string job, string build)
    {
        var state = LocalStackState.Load(_home) ?? throw new InvalidOperationException("no local stack");
        var pubSub = PubSubClient.Create(LocalChain.Project, getEnv: name => name == "PUBSUB_EMULATOR_HOST" ? state.Find(LocalChain.PubSubEmulator)!.HostPort : null);
        var report = new JsonObject
        {
            ["project"] = LocalChain.Project,
            ["topic"] = "prow-events",
            ["runid"] = job,
            ["status"] = "triggered",
            ["url"] = $"https://prow.example/view/gs/bucket/logs/{job}/{build}",
            ["gcs_path"] = $"gs://bucket/logs/{job}/{build}",
            ["refs"] = new JsonArray(new JsonObject { ["org"] = "local", ["repo"] = "example-repo", ["base_ref"] = "main" }),
            ["job_type"] = "periodic",
            ["job_name"] = job,
        };
        await pubSub.PublishAsync(KfciTopics.ProwEvents, [new OutgoingMessage(Encoding.UTF8.GetBytes(report.ToJsonString()))], CancellationToken.None);
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
}
