using System.CommandLine;
using System.Globalization;
using Kfci.Cli.CommandLine;
using Kfci.Cli.Commands;
using Kfci.Cli.Local;
using Kfci.Runs;

namespace Kfci.Cli.OnCall;

/// <summary>
/// <c>kfci wait</c>: what a Prow job's container runs. From Prow's environment it derives the kfci run of this build,
/// waits for it to appear (crier's report may arrive after the pod starts), follows it, printing each workflow and
/// step as it changes (this output is the job's <c>build-log.txt</c> in Spyglass), and exits with kfci's verdict so
/// Prow reports kfci's real result. It only reads runs; an abort (SIGTERM) ends it at once, and Prow's crier
/// <c>aborted</c> report is what makes the Trigger stop the workflows.
/// </summary>
public sealed class WaitCommand(Func<string, string?>? environment = null)
{
    public const string ExitCodeHelp =
        "Exit codes: 0 the run's result is SUCCESS; 1 FAILURE or ABORTED; 2 kfci could not run the job (bad prow_config.yaml, "
        + "no run appeared before --start-timeout, --timeout passed, the run stuck Completed (Uploader failing) for 15 minutes, the run store unreachable, terminated by SIGTERM), with the reason on the last line.";

    public Command Create()
    {
        var project = new Option<string>("--project") { Description = "The project whose runs to read (default: KFCI_PROJECT, else the local stack in KFCI_HOME)." };
        var startTimeout = new Option<string>("--start-timeout") { Description = "Seconds to wait for the run to appear (crier's report reaching the Trigger); default 600." };
        var timeout = new Option<string>("--timeout") { Description = "Minutes to wait for the run to finish; default 300 (set Prow's decoration timeout above it)." };
        var command = new Command(
            "wait",
            "Wait for the kfci run of the Prow build this pod runs (JOB_NAME, BUILD_ID, JOB_TYPE, PROW_JOB_ID, JOB_SPEC), printing its workflows and steps live. "
            + ExitCodeHelp)
        {
            project, startTimeout, timeout,
        };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var getEnv = environment ?? Environment.GetEnvironmentVariable;
            var build = ProwBuild.FromEnvironment(getEnv);
            var start = TimeSpan.FromSeconds(CliInputs.Int(parse.GetValue(startTimeout), "--start-timeout", 600));
            var finish = TimeSpan.FromMinutes(CliInputs.Int(parse.GetValue(timeout), "--timeout", 300));
            using var context = CliContext.Resolve(parse.GetValue(project), environment);
            return await WaitAsync(context, build, start, finish, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
        });
        return command;
    }

    /// <summary>Waits for and follows the build's run; the exit code as <see cref="ExitCodeHelp"/> says.</summary>
    public static async Task<int> WaitAsync(CliContext context, ProwBuild build, TimeSpan startTimeout, TimeSpan timeout, TextWriter output, TextWriter error, CancellationToken cancellationToken, TimeSpan? stuckCompletedAfter = null)
    {
        var stuckAfter = stuckCompletedAfter ?? DefaultStuckCompletedAfter;
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        await output.WriteLineAsync(
            $"kfci wait: job {build.JobName} ({build.JobType ?? "type unknown"}), build {build.BuildId}, prow job {build.ProwJobId ?? "-"}: kfci run {build.RunId} in {context.Description}");
        try
        {
            var run = await AwaitRunAsync(context.Runs, build.RunId, startTimeout, output, cancellationToken);
            if (run is null)
            {
                return await ExitAsync(output, ExitCodes.Error, $"kfci: no run {build.RunId} appeared within {startTimeout.TotalSeconds:0}s: did crier's Pub/Sub report reach prow-events (annotations prow.k8s.io/pubsub.project and .topic on the job)?");
            }

            if (Mismatch(run, build) is { } mismatch)
            {
                return await ExitAsync(output, ExitCodes.Error, $"kfci: run {run.RunId} is not this pod's build: {mismatch}");
            }

            var follower = new RunFollower(context.Runs, StepCluster(context), output, TimeSpan.FromSeconds(2)) { StuckCompletedAfter = stuckAfter };
            var final = await follower.FollowAsync(run.RunId, timeout, live: false, cancellationToken);
            if (final is null)
            {
                return await ExitAsync(output, ExitCodes.Error, $"kfci: run {run.RunId} did not finish within {timeout.TotalMinutes:0} minutes (kfci runs show {run.RunId})");
            }

            await SummarizeAsync(final, output);
            return final.State switch
            {
                RunState.Finished when final.Result == RunResults.Success => await ExitAsync(output, ExitCodes.Success, $"SUCCESS: {final.JobName} build {final.BuildId}"),
                RunState.Finished => await ExitAsync(output, ExitCodes.Failure, $"{final.Result}: {final.JobName} build {final.BuildId}"),
                RunState.Aborted => await ExitAsync(output, ExitCodes.Failure, $"ABORTED: run {final.RunId} was aborted"),
                RunState.Completed => await ExitAsync(output, ExitCodes.Error, $"kfci: run {final.RunId} has been Completed for more than {stuckAfter.TotalMinutes:0} minutes: the Uploader is stuck on it, see kfci-dead-letter"),
                _ => await ExitAsync(output, ExitCodes.Error, $"kfci could not run {final.JobName}: {(final.Errors.Count > 0 ? string.Join("; ", final.Errors) : "no reason recorded")}".ReplaceLineEndings(" ")),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Prow's abort (or its timeout) sends SIGTERM: say so and leave; crier's aborted report stops the workflows.
            return await ExitAsync(output, ExitCodes.Error, $"kfci wait: terminated; Prow's aborted report makes kfci stop run {build.RunId}'s workflows");
        }
    }

    /// <summary>Why the run found is not the build the pod runs (a kfci-owned run, or another pull request head); null when it is.</summary>
    public static string? Mismatch(RunRecord run, ProwBuild build) =>
        !run.IsProwOwned ? $"it is {run.Owner}-owned (started by {run.Source}), not a crier report of Prow's job"
        : build.PullSha is { } sha && run.PullSha is { } tested && !string.Equals(sha, tested, StringComparison.OrdinalIgnoreCase) ? $"it tests {tested}, JOB_SPEC says {sha}"
        : null;

    /// <summary>
    /// Where the steps of the run's workflows are read: the test cluster only when <c>KFCI_CLUSTER_ENDPOINT</c> names it
    /// (the local stack always does). In a Prow pod, discovery would find the pod's own cluster (Prow's build cluster),
    /// which has no workflows and refuses the pod; without the endpoint the log shows workflows without their steps.
    /// </summary>
    public static Kfci.Kubernetes.IWorkflowCluster? StepCluster(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return string.IsNullOrWhiteSpace(context.GetEnv(Kfci.Configuration.KfciEnvironment.ClusterEndpoint)) ? null : LocalRun.TryCluster(context);
    }

    /// <summary>How long a run may stay Completed (workflows done, results not written) before kfci wait calls it stuck.</summary>
    public static readonly TimeSpan DefaultStuckCompletedAfter = TimeSpan.FromMinutes(15);

    private static async Task<RunRecord?> AwaitRunAsync(IRunStore runs, string runId, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var announced = false;
        while (true)
        {
            try
            {
                if (await runs.GetAsync(runId, cancellationToken) is { } run)
                {
                    return run;
                }
            }
            catch (Exception e) when (Kfci.Http.Transience.IsTransient(e, cancellationToken))
            {
                // The store's retries gave up on this read; the deadline, not one outage, decides when to stop waiting.
                await output.WriteLineAsync($"{Now} run store unreachable ({e.Message.ReplaceLineEndings(" ")}); still waiting");
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                return null;
            }

            if (!announced)
            {
                announced = true;
                await output.WriteLineAsync($"{Now} waiting for kfci to start run {runId} (crier's report has not reached the Trigger yet)");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>Where to look next: each workflow's UI, the failed steps' logs in the results, the results folder.</summary>
    private static async Task SummarizeAsync(RunRecord run, TextWriter output)
    {
        foreach (var why in LocalRun.FailureReasons(run))
        {
            await output.WriteLineAsync("  " + why);
        }

        foreach (var workflow in run.Workflows)
        {
            if (workflow.UiLink is { } ui)
            {
                await output.WriteLineAsync($"  {workflow.Name}: {ui}");
            }

            foreach (var node in workflow.FailedNodes)
            {
                if (run.ResultsPath is { } results)
                {
                    await output.WriteLineAsync($"  log of {workflow.Name}/{node.DisplayName}: {results}/artifacts/logs/{workflow.Name}/");
                }
            }
        }

        if (run.ResultsPath is { } path)
        {
            await output.WriteLineAsync($"  results: {path}");
        }
    }

    private static async Task<int> ExitAsync(TextWriter output, int code, string lastLine)
    {
        await output.WriteLineAsync(lastLine);
        await output.FlushAsync();
        return code;
    }

    private static string Now => DateTimeOffset.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
