using System.Text.Json;
using Kfci.Cli.CommandLine;
using Kfci.Cli.OnCall;
using Kfci.Runs;
using Kfci.Storage;

namespace Kfci.Cli.Local;

/// <summary>
/// <c>kfci local run</c>: the main job on this machine. Brings the stack up if needed, links the repository where the
/// Trigger reads sources, publishes the Prow event Prow would send for the job, follows the run to its end and says
/// where the results are. Exit 0 on SUCCESS, 1 on FAILURE (or ABORTED), 2 when kfci could not run the job.
/// </summary>
public sealed class LocalRun(KfciPaths paths, TextWriter output, TextWriter error)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public async Task<int> RunAsync(LocalRunOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var repository = await LocalRepository.InspectAsync(options.RepoDirectory, cancellationToken);

        // Progress goes to stderr when stdout carries the JSON answer.
        var progress = options.Json ? error : output;
        var state = await new LocalChain(paths, progress).UpAsync(null, null, cancellationToken);
        var link = repository.LinkInto(paths.GitRoot);
        var refs = await options.RefsAsync(repository, link, cancellationToken);
        if (options.ProwOwned)
        {
            return await RunProwOwnedAsync(options, state, LocalProwJob.Create(options.JobType, options.JobNameFor(repository), refs), progress, cancellationToken);
        }

        var request = new TriggerRequest(options.JobType, options.JobNameFor(repository), refs, new Dictionary<string, string>());

        await progress.WriteLineAsync($"kfci local run executes {repository.Name}'s code (its workflows' steps) on this machine, in a bubblewrap sandbox with the network on; see docs/security.md.");
        var environment = LocalChain.Environment(state, paths);
        using var context = CliContext.Resolve(state.Project, name => environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name));
        var published = await RunStarter.PublishAsync(context.PubSub, request, cancellationToken);
        await progress.WriteLineAsync($"Published a {options.JobType.ToString().ToLowerInvariant()} event for {repository.Name} ({request.JobName}) as message {published.MessageId}.");
        var run = await RunStarter.WaitForRunAsync(context.Runs, request.JobName, published, TimeSpan.FromSeconds(60), cancellationToken)
            ?? throw new CliException($"the Trigger recorded no run for message {published.MessageId} within 60s; see {Path.Combine(paths.LogDirectory, "trigger.log")}");

        var live = !options.Json && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var follower = new RunFollower(context.Runs, TryCluster(context), progress);
        var final = await follower.FollowAsync(run.RunId, options.Timeout, live, cancellationToken);

        // Saved now rather than at the next interval: a finished run is what people come back to.
        await LocalStateSaver.SaveNowAsync(state, paths, progress, cancellationToken);
        if (final is null)
        {
            return await FinishAsync(options, run, null, $"run {run.RunId} did not finish within {options.Timeout.TotalMinutes:0} minutes (kfci runs show {run.RunId})", context, cancellationToken);
        }

        var reason = final.State switch
        {
            RunState.Error => $"kfci could not run {final.JobName}: {(final.Errors.Count > 0 ? string.Join("; ", final.Errors) : "no reason recorded")}",
            RunState.Aborted => $"run {final.RunId} was aborted before any workflow ran",
            _ => null,
        };
        return await FinishAsync(options, final, reason, null, context, cancellationToken);
    }

    /// <summary>
    /// A Prow-owned build: publishes crier's report of the new ProwJob, then runs <c>kfci wait</c> as the job's pod would;
    /// its exit code is the job's. Prow's pod utilities are not here, so the build folder holds only what kfci wrote.
    /// </summary>
    private async Task<int> RunProwOwnedAsync(LocalRunOptions options, LocalStackState state, LocalProwJob job, TextWriter progress, CancellationToken cancellationToken)
    {
        var environment = LocalChain.Environment(state, paths);
        using var context = CliContext.Resolve(state.Project, name => environment.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name));
        // As crier does: triggered when the ProwJob is created (no build yet), pending once plank scheduled its pod.
        await context.PubSub.PublishAsync(Kfci.PubSub.KfciTopics.ProwEvents, [job.CrierReport(state.Project, "triggered")], cancellationToken);
        await context.PubSub.PublishAsync(Kfci.PubSub.KfciTopics.ProwEvents, [job.CrierReport(state.Project, "pending")], cancellationToken);
        await progress.WriteLineAsync($"Published crier's report of {job.JobName} build {job.BuildId} (Prow-owned: {LocalBucket.Uri(job.Directory)}); running kfci wait as its pod.");
        var exitCode = await job.RunPodAsync(paths.Home, progress, cancellationToken);
        if (options.ResultsDirectory is { } target)
        {
            await CopyResultsAsync(context.Results, job.Directory, target, cancellationToken);
        }

        await progress.WriteLineAsync($"Results: {context.ResultsForPeople(LocalBucket.Uri(job.Directory))}");
        if (options.Json)
        {
            // The pod's exit code is the job's verdict; the run adds what kfci recorded of it.
            var run = await context.Runs.GetAsync(new Kfci.Prow.RunIdentity(job.JobName, job.BuildId).RunId, cancellationToken);
            var answer = new
            {
                runId = run?.RunId,
                owner = BuildOwners.Prow,
                jobName = job.JobName,
                buildId = job.BuildId,
                exitCode,
                state = run?.State.ToWire(),
                result = run?.Result,
                resultsPath = LocalBucket.Uri(job.Directory),
                errors = run?.Errors ?? [],
            };
            await output.WriteLineAsync(JsonSerializer.Serialize(answer, s_json));
        }

        return exitCode;
    }

    private async Task<int> FinishAsync(LocalRunOptions options, RunRecord run, string? reason, string? timeout, CliContext context, CancellationToken cancellationToken)
    {
        var resultsPath = run.ResultsPath;
        if (options.ResultsDirectory is { } target && run.State == RunState.Finished)
        {
            await CopyResultsAsync(context.Results, RunLogs.PrefixOf(run, context.GetEnv), target, cancellationToken);
            resultsPath = Path.GetFullPath(target);
        }

        var exitCode = (reason ?? timeout) is not null ? ExitCodes.Error
            : run.Result == RunResults.Success ? ExitCodes.Success
            : ExitCodes.Failure;
        if (options.Json)
        {
            var answer = new
            {
                runId = run.RunId,
                state = run.State.ToWire(),
                result = run.Result,
                resultsPath,
                reason = reason ?? timeout,
                workflows = run.Workflows.Select(w => new { name = w.Name, phase = w.Phase, message = w.Message }),
                errors = run.Errors,
            };
            await output.WriteLineAsync(JsonSerializer.Serialize(answer, s_json));
        }
        else
        {
            if ((reason ?? timeout) is { } problem)
            {
                await error.WriteLineAsync($"kfci: {problem.ReplaceLineEndings(" ")}");
            }
            else
            {
                await output.WriteLineAsync($"{run.Result}: {run.JobName} build {run.BuildId} (run {run.RunId})");
                foreach (var why in FailureReasons(run))
                {
                    await output.WriteLineAsync("  " + why);
                }
            }

            if (resultsPath is not null)
            {
                await output.WriteLineAsync($"Results: {context.ResultsForPeople(resultsPath)}");
            }

            await output.WriteLineAsync($"Dashboard: {Commands.DashboardCommand.RunUrl(run.RunId)} (serve it with ./kfci dashboard)");
        }

        return exitCode;
    }

    /// <summary>Copies a run's results directory out of the store, so they outlive the stack's KFCI_HOME.</summary>
    /// <summary>Why a run did not succeed, one line each: its errors, then each unsuccessful workflow and its failed steps.</summary>
    public static IEnumerable<string> FailureReasons(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        foreach (var problem in run.Errors)
        {
            yield return $"error: {problem.ReplaceLineEndings(" ")}";
        }

        foreach (var workflow in run.Workflows.Where(w => w.Phase != WorkflowPhases.Succeeded))
        {
            yield return $"workflow {workflow.Name}: {workflow.Phase ?? "not finished"}{(workflow.Message is { Length: > 0 } m ? ": " + m.ReplaceLineEndings(" ") : "")}";
            foreach (var node in workflow.FailedNodes)
            {
                yield return $"  step {node.DisplayName}: {node.Phase}{(node.Message is { Length: > 0 } nm ? ": " + nm.ReplaceLineEndings(" ") : "")}";
            }
        }
    }

    public static async Task CopyResultsAsync(IResultsStore store, string prefix, string target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var directory = prefix.TrimEnd('/') + "/";
        await foreach (var entry in store.ListAsync(directory, null, cancellationToken))
        {
            if (entry.IsPrefix)
            {
                continue;
            }

            var file = Path.Combine(target, entry.Name[directory.Length..].Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await using var source = await store.OpenReadAsync(entry.Name, cancellationToken);
            if (source is null)
            {
                continue;
            }

            await using var destination = File.Create(file);
            await source.CopyToAsync(destination, cancellationToken);
        }
    }

    internal static Kfci.Kubernetes.IWorkflowCluster? TryCluster(CliContext context)
    {
        try
        {
            return context.Cluster;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
