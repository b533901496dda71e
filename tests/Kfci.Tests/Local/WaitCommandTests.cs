using System.Diagnostics;
using Kfci.Cli.CommandLine;
using Kfci.Cli.OnCall;
using Kfci.Runs;
using Kfci.Testing;

namespace Kfci.Tests.Local;

/// <summary>
/// <c>kfci wait</c> as a Prow job's pod runs it: the build from Prow's environment, a run that appears only after the
/// pod started, its live progress and verdict, a prompt end on SIGTERM, and one clear line for bad input.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class WaitCommandTests(EmulatorFixture emulators) : IDisposable
{
    private readonly string _home = StackDirectories.Create("kfci-wait-home-");
    private readonly string _project = EmulatorFixture.NewProjectId("wait");

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string? Env(string name) => name switch
    {
        "KFCI_PROJECT" => _project,
        "KFCI_HOME" => _home,
        _ when name == emulators.Firestore.HostVariable => emulators.Firestore.HostPort,
        _ => null,
    };

    [Fact]
    public async Task WaitAsync_RunAppearsAfterThePodStarted_PrintsItLiveAndExits1OnFailure()
    {
        using var context = CliContext.Resolve(null, Env);
        var build = new ProwBuild("kfci-wait-job", "1765000000000000001", "presubmit", "3f1c-uuid");
        using var output = new StringWriter();
        var waiting = WaitCommand.WaitAsync(context, build, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(2), output, TextWriter.Null, default);

        await Task.Delay(1500);
        var now = DateTimeOffset.UtcNow;
        var workflow = new WorkflowRecord { Name = "e2e-1ac7ffe-2446", Namespace = "ns", EntryName = "e2e", EntryIndex = 0, Submitted = false, Phase = "Running", UiLink = "https://argo.example.com/workflows/ns/e2e-1ac7ffe-2446" };
        await context.Runs.CreateAsync(
            new RunRecord
            {
                RunId = build.RunId, JobName = build.JobName, BuildId = build.BuildId, JobType = "presubmit", JobSpec = "{}",
                Source = "crier", Owner = BuildOwners.Prow, State = RunState.Submitted, CreatedAt = now, UpdatedAt = now, Workflows = [workflow],
            },
            default);
        await Task.Delay(2500);
        await context.Runs.UpdateAsync(
            build.RunId,
            r => r.MoveTo(RunState.Finished, DateTimeOffset.UtcNow) with
            {
                Result = RunResults.Failure,
                ResultsPath = "gs://kfci-local/pr-logs/pull/o_r/1/kfci-wait-job/1765000000000000001",
                Workflows = [workflow with { Phase = "Failed", FailedNodes = [new FailedNode("n1", "e2e[0].test", "test", "Failed", "exit code 1")] }],
            },
            default);

        Assert.Equal(ExitCodes.Failure, await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        var text = output.ToString();
        Assert.Contains($"kfci run {build.RunId}", text, StringComparison.Ordinal);
        Assert.Contains("waiting for kfci to start run", text, StringComparison.Ordinal);
        Assert.Contains("workflow e2e-1ac7ffe-2446: Running  https://argo.example.com/workflows/ns/e2e-1ac7ffe-2446", text, StringComparison.Ordinal);
        Assert.Contains("step test: Failed: exit code 1", text, StringComparison.Ordinal);
        Assert.Equal("FAILURE: kfci-wait-job build 1765000000000000001", text.TrimEnd().Split('\n')[^1]);
    }

    [Fact]
    public async Task Wait_InstalledCopyOutsideTheRepository_ReadsTheNamedProject()
    {
        // The image a Prow job runs holds the published program and no kfci checkout: no kfci.slnx above it, no KFCI_HOME.
        var installed = Path.Combine(_home, "app");
        Directory.CreateDirectory(installed);
        var built = Path.GetDirectoryName(typeof(WaitCommand).Assembly.Location)!;
        foreach (var file in Directory.GetFiles(built).Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("kfci.", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(installed, Path.GetFileName(file)));
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = installed };
        foreach (var argument in new[] { Path.Combine(installed, "kfci.dll"), "wait", "--start-timeout", "2" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in new[] { "KFCI_HOME", "KFCI_REPO_ROOT", "KFCI_CLUSTER_ENDPOINT" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["KFCI_PROJECT"] = _project;
        start.Environment[emulators.Firestore.HostVariable] = emulators.Firestore.HostPort;
        start.Environment["JOB_NAME"] = "kfci-installed-wait";
        start.Environment["BUILD_ID"] = "2060000000000000001";
        start.Environment["JOB_TYPE"] = "periodic";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var text = await stdout + await stderr;
        // Before: "cannot find the kfci repository". Now it reads the named project until --start-timeout (2s, so under
        // load the first read may already outlast it and the "waiting" line never comes).
        Assert.Contains($"project {_project}", text, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Error, process.ExitCode);
        Assert.StartsWith("kfci: no run ", text.TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitAsync_Terminated_EndsPromptlyWithExit2AndTheReasonLast()
    {
        using var context = CliContext.Resolve(null, Env);
        using var output = new StringWriter();
        using var terminated = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();

        var exit = await WaitCommand.WaitAsync(context, new ProwBuild("never-reported", "42", "periodic", null), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5), output, TextWriter.Null, terminated.Token);

        Assert.Equal(ExitCodes.Error, exit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
        Assert.StartsWith("kfci wait: terminated", output.ToString().TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_OutsideAProwPod_OneLineAndExit2_AndHelpDocumentsExitCodes()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await KfciCli.RunAsync(KfciCli.Create(Env), ["wait"], new System.CommandLine.InvocationConfiguration { Output = output, Error = error });

        Assert.Equal(ExitCodes.Error, exit);
        Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.Contains("JOB_NAME and BUILD_ID", error.ToString(), StringComparison.Ordinal);

        using var help = new StringWriter();
        await KfciCli.RunAsync(KfciCli.Create(Env), ["wait", "--help"], new System.CommandLine.InvocationConfiguration { Output = help, Error = help });
        Assert.Contains("Exit codes: 0", help.ToString().ReplaceLineEndings(" "), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitAsync_RunStuckCompleted_Exit2EarlyNamingTheUploader()
    {
        using var context = CliContext.Resolve(null, Env);
        var build = new ProwBuild("kfci-stuck-job", "2060000000000000002", "periodic", null);
        var then = DateTimeOffset.UtcNow.AddMinutes(-20);
        await context.Runs.CreateAsync(
            new RunRecord
            {
                RunId = build.RunId, JobName = build.JobName, BuildId = build.BuildId, JobType = "periodic", JobSpec = "{}",
                Source = "crier", Owner = BuildOwners.Prow, State = RunState.Completed, CreatedAt = then, UpdatedAt = then, CompletedAt = then,
            },
            default);
        using var output = new StringWriter();
        var clock = Stopwatch.StartNew();

        var exit = await WaitCommand.WaitAsync(context, build, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(30), output, TextWriter.Null, default);

        Assert.Equal(ExitCodes.Error, exit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), clock.Elapsed.ToString());
        Assert.Contains("the Uploader is stuck on it, see kfci-dead-letter", output.ToString().TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitAsync_RunStoreUnreachable_KeepsWaitingUntilTheDeadline()
    {
        // Nothing listens on port 1: every read fails as an outage does, after the client's own retries.
        using var context = CliContext.Resolve(_project, name => name == emulators.Firestore.HostVariable ? "127.0.0.1:1" : Env(name));
        using var output = new StringWriter();

        var exit = await WaitCommand.WaitAsync(context, new ProwBuild("kfci-outage-job", "7", "periodic", null), TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(1), output, TextWriter.Null, default);

        Assert.Equal(ExitCodes.Error, exit);
        Assert.Contains("run store unreachable", output.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("kfci: no run ", output.ToString().TrimEnd().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Mismatch_KfciOwnedRunOrAnotherHead_IsNotThisPodsBuild()
    {
        var now = DateTimeOffset.UtcNow;
        var run = new RunRecord
        {
            RunId = "r", JobName = "j", BuildId = "1", JobType = "presubmit", JobSpec = "{}", Source = "crier", Owner = BuildOwners.Prow,
            State = RunState.Submitted, CreatedAt = now, UpdatedAt = now, PullSha = "aaaa",
        };
        var build = new ProwBuild("j", "1", "presubmit", null, "AAAA");

        Assert.Null(WaitCommand.Mismatch(run, build));
        Assert.Contains("kfci-owned", WaitCommand.Mismatch(run with { Owner = BuildOwners.Kfci, Source = "trigger" }, build), StringComparison.Ordinal);
        Assert.Contains("JOB_SPEC says bbbb", WaitCommand.Mismatch(run, build with { PullSha = "bbbb" }), StringComparison.Ordinal);
        Assert.Equal("bbbb", ProwBuild.FromEnvironment(name => name == "JOB_SPEC" ? """{"type":"presubmit","job":"j","buildid":"1","refs":{"pulls":[{"number":1,"sha":"bbbb"}]}}""" : null).PullSha);
    }

    [Fact]
    public void StepCluster_OnlyTheConfiguredTestCluster_NeverThePodsOwn()
    {
        // In a Prow pod, in-cluster discovery finds Prow's build cluster: it must not be asked for workflows.
        string? InPod(string name) => name switch
        {
            "KUBERNETES_SERVICE_HOST" => "10.0.0.1",
            "KUBERNETES_SERVICE_PORT" => "443",
            _ => Env(name),
        };
        using var pod = CliContext.Resolve(_project, InPod);
        Assert.Null(WaitCommand.StepCluster(pod));

        using var configured = CliContext.Resolve(_project, name => name == "KFCI_CLUSTER_ENDPOINT" ? "http://127.0.0.1:1" : InPod(name));
        Assert.NotNull(WaitCommand.StepCluster(configured));
    }

    [Fact]
    public void ProwBuild_FromJobSpecOrVariables_TheSameRunTheTriggerNames()
    {
        const string spec = """{"type":"presubmit","job":"pull-kfci","buildid":"1765","prowjobid":"uuid-1","refs":{"org":"o","repo":"r"}}""";
        var fromSpec = ProwBuild.FromEnvironment(name => name == "JOB_SPEC" ? spec : null);
        Assert.Equal(new ProwBuild("pull-kfci", "1765", "presubmit", "uuid-1"), fromSpec);
        Assert.Equal(new Kfci.Prow.RunIdentity("pull-kfci", "1765").RunId, fromSpec.RunId);

        var disagreeing = Assert.Throws<CliException>(() => ProwBuild.FromEnvironment(name => name switch { "JOB_SPEC" => spec, "BUILD_ID" => "9", _ => null }));
        Assert.Contains("BUILD_ID is '9' but JOB_SPEC says '1765'", disagreeing.Message, StringComparison.Ordinal);
        Assert.Throws<CliException>(() => ProwBuild.FromEnvironment(name => name switch { "JOB_NAME" => "a/../b", "BUILD_ID" => "1", _ => null }));
    }
}
