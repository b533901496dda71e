using System.CommandLine;
using Kfci.Cli.CommandLine;
using Kfci.Cli.Commands;

namespace Kfci.Cli.Local;

/// <summary><c>kfci local up|down|status|reset|run</c>: the whole chain on this machine.</summary>
public static class LocalCommands
{
    /// <summary>Whether this build has the local workflow engine (<c>kfci local engine</c>), which <c>up</c> starts.</summary>
    public static bool HasEngine => Create().Subcommands.Any(c => c.Name == "engine");

    public static Command Create()
    {
        var local = new Command("local", "Run the whole kfci chain on this machine: emulators, workflow engine and the four functions on loopback.");
        local.Subcommands.Add(Up());
        local.Subcommands.Add(Down());
        local.Subcommands.Add(Reset());
        local.Subcommands.Add(Status());
        local.Subcommands.Add(Kfci.Cli.Engine.EngineCommand.Create());
        local.Subcommands.Add(Run());
        local.Subcommands.Add(SchedulerCommand());
        return local;
    }

    private static Command Up()
    {
        var prowJobs = new Option<string>("--prow-jobs") { Description = "Prow's job configuration file: periodic events that name only a job get its extra_refs (default: KFCI_PROW_JOBS)." };
        var periodics = new Option<string>("--periodics") { Description = "kfci's own periodics to run on their schedules: a Terraform variables file (JSON) with 'periodics', as infra/terraform/periodics.tf takes." };
        var command = new Command("up", "Start the Pub/Sub and Firestore emulators, the workflow engine, the four function hosts and the scheduler, and print where they are.")
        {
            prowJobs, periodics,
        };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var paths = KfciPaths.Discover();
            var output = parse.InvocationConfiguration.Output;
            var jobs = parse.GetValue(prowJobs) ?? (Environment.GetEnvironmentVariable(Configuration.KfciEnvironment.ProwJobs) is { Length: > 0 } fromEnv ? fromEnv : null);
            foreach (var file in new[] { jobs, parse.GetValue(periodics) }.OfType<string>().Where(f => !File.Exists(f)))
            {
                throw new CliException($"{file}: no such file");
            }

            var state = await new LocalChain(paths, output).UpAsync(jobs, parse.GetValue(periodics), cancellationToken);
            Print(state, paths, output);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Down()
    {
        var wait = new Option<string>("--wait") { Description = "Seconds to let running jobs finish before stopping (default 30; 0 stops at once)." };
        var command = new Command("down", "Let running jobs finish (bounded), save the Firestore state under KFCI_HOME, and stop everything 'kfci local up' started.") { wait };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var seconds = parse.GetValue(wait) is { } text ? TimeSpan.FromSeconds(CliInputs.Int(text, "--wait", 0)) : LocalStop.DefaultWait;
            return await new LocalStop(KfciPaths.Discover(), parse.InvocationConfiguration.Output).StopAsync(seconds, cancellationToken);
        });
        return command;
    }

    private static Command Reset()
    {
        var yes = new Option<bool>("--yes") { Description = "Do not ask first." };
        var command = new Command("reset", "Stop the local stack and delete all of its state (runs, sweeps, rejections, results, workflows, logs): the one way to start from nothing.") { yes };
        CliAction.Set(command, async (parse, _) =>
        {
            var paths = KfciPaths.Discover();
            var output = parse.InvocationConfiguration.Output;
            if (!parse.GetValue(yes) && !await LocalReset.ConfirmAsync(paths, output))
            {
                return ExitCodes.Error;
            }

            LocalReset.Run(paths, output);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Check every process of the local stack; exit 1 if any is unhealthy.");
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var paths = KfciPaths.Discover();
            var output = parse.InvocationConfiguration.Output;
            if (LocalStackState.Load(paths.Home) is not { } state)
            {
                await output.WriteLineAsync("kfci local stack is not running (kfci local up starts it).");
                await output.WriteLineAsync(StateLine(paths));
                return ExitCodes.Failure;
            }

            var healthy = true;
            foreach (var process in state.Processes)
            {
                var ok = await LocalChain.IsHealthyAsync(process, cancellationToken);
                healthy &= ok;
                var address = process.Port == 0 ? "-" : process.HostPort;
                await output.WriteLineAsync($"{process.Name,-20} {address,-18} {(ok ? "healthy" : "DOWN")}  log: {process.LogFile}");
            }

            await output.WriteLineAsync(StateLine(paths));

            return healthy ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    private static Command Run()
    {
        var repo = new Option<string>("--repo") { Description = "The git repository to test (required)." };
        var jobType = new Option<string>("--job-type") { Description = "presubmit, postsubmit or periodic (required)." };
        var jobName = new Option<string>("--job-name") { Description = "Prow job name (default <repo>-<job type>)." };
        var pullNumber = new Option<string>("--pull-number") { Description = "Presubmit: the pull request number (default 1)." };
        var pullSha = new Option<string>("--pull-sha") { Description = "Presubmit: the commit under test (default HEAD)." };
        var baseRef = new Option<string>("--base-ref") { Description = "Base branch (default: the repository's default branch; postsubmit/periodic: the current branch)." };
        var baseSha = new Option<string>("--base-sha") { Description = "Base commit (default: the base branch's tip; postsubmit/periodic: HEAD)." };
        var resultsDir = new Option<string>("--results-dir") { Description = "Also copy the results (Prow's bucket layout) to this directory." };
        var format = new Option<string>("--format") { Description = "text (default) or json: {runId, state, result, resultsPath, reason, workflows}; with --owner prow {runId, owner, jobName, buildId, exitCode, state, result, resultsPath, errors}." };
        var timeout = new Option<string>("--timeout") { Description = "Minutes to wait for the run (default 30)." };
        var owner = new Option<string>("--owner")
        {
            Description = "kfci (default): a trigger request, kfci writes the whole build folder; prow: a Prow-owned build, crier's report then 'kfci wait' with the Prow pod's environment, kfci writes only artifacts/.",
        };
        var command = new Command("run", "Run a Prow job on a local repository through the whole chain and follow it; exit 0 SUCCESS, 1 FAILURE, 2 could not run.")
        {
            repo, jobType, jobName, pullNumber, pullSha, baseRef, baseSha, resultsDir, format, timeout, owner,
        };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var options = LocalRunOptions.Parse(
                parse.GetValue(repo), parse.GetValue(jobType), parse.GetValue(jobName), parse.GetValue(pullNumber), parse.GetValue(pullSha),
                parse.GetValue(baseRef), parse.GetValue(baseSha), parse.GetValue(resultsDir), parse.GetValue(format), parse.GetValue(timeout), parse.GetValue(owner));
            var run = new LocalRun(KfciPaths.Discover(), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            return await run.RunAsync(options, cancellationToken);
        });
        return command;
    }

    private static Command SchedulerCommand()
    {
        var command = new Command("scheduler", "The local stand-in for Cloud Scheduler: a watcher tick every 30 s, kfci's own periodics, and the Firestore state saved every 10 s (started by 'local up').") { Hidden = true };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            try
            {
                var log = parse.InvocationConfiguration.Output;
                await Task.WhenAll(LocalScheduler.RunAsync(log, cancellationToken), LocalStateSaver.RunAsync(log, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped by 'local down' (SIGTERM): a normal end.
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Where the runs are kept and how old the newest saved copy is.</summary>
    private static string StateLine(KfciPaths paths)
    {
        var snapshots = new FirestoreSnapshots(paths.Home);
        var saved = snapshots.Newest() is { } newest
            ? $"last saved {newest.Age(DateTimeOffset.UtcNow)} ago ({newest.ExportedAt:u})"
            : "nothing saved yet";
        return $"{"state",-20} {snapshots.Directory}: {saved}; saved every {LocalStateSaver.Interval.TotalSeconds:0} s, on 'local down' and after each 'local run'";
    }

    private static void Print(LocalStackState state, KfciPaths paths, TextWriter output)
    {
        output.WriteLine($"kfci local stack is up (project {state.Project}, state in {paths.Home}):");
        foreach (var process in state.Processes)
        {
            var address = process.Port == 0 ? "(no port)" : $"http://{process.HostPort}/";
            output.WriteLine($"  {process.Name,-20} {address,-26} log: {process.LogFile}");
        }

        output.WriteLine($"  results (bucket)     {paths.ResultsDirectory}");
        output.WriteLine($"  repositories         {paths.GitRoot}");
        output.WriteLine($"  NFS volume           {paths.NfsRoot}");
        if (state.ProwJobs is { } jobs)
        {
            output.WriteLine($"  Prow job config      {jobs}");
        }

        if (state.Periodics is { } periodics)
        {
            output.WriteLine($"  kfci periodics       {periodics}");
        }
        if (state.Find(LocalChain.PubSubEmulator) is { } pubSub)
        {
            output.WriteLine();
            output.WriteLine("Run a job:    ./kfci local run --repo DIR --job-type presubmit");
            output.WriteLine("On-call:      ./kfci trigger|runs|logs|replay (they find this stack through KFCI_HOME)");
            output.WriteLine("With gcloud:  " + $"CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://{pubSub.HostPort}/ CLOUDSDK_CORE_PROJECT={state.Project} "
                + "CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true gcloud pubsub topics publish prow-events --message='{...}' "
                + "--attribute=prow.k8s.io/pubsub.EventType=prow.k8s.io/pubsub.PresubmitProwJobEvent");
        }
    }
}
