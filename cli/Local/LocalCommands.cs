using System.CommandLine;
using Kfci.Cli.CommandLine;

namespace Kfci.Cli.Local;

/// <summary><c>kfci local up|down|status|run</c>: the whole chain on this machine.</summary>
public static class LocalCommands
{
    /// <summary>Whether this build has the local workflow engine (<c>kfci local engine</c>), which <c>up</c> starts.</summary>
    public static bool HasEngine => Create().Subcommands.Any(c => c.Name == "engine");

    public static Command Create()
    {
        var local = new Command("local", "Run the whole kfci chain on this machine: emulators, workflow engine and the four functions on loopback.");
        local.Subcommands.Add(Up());
        local.Subcommands.Add(Down());
        local.Subcommands.Add(Status());
        local.Subcommands.Add(Kfci.Cli.Engine.EngineCommand.Create());
        local.Subcommands.Add(Run());
        local.Subcommands.Add(SchedulerCommand());
        return local;
    }

    private static Command Up()
    {
        var command = new Command("up", "Start the Pub/Sub and Firestore emulators, the workflow engine, the four function hosts and the scheduler, and print where they are.");
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var paths = KfciPaths.Discover();
            var output = parse.InvocationConfiguration.Output;
            var state = await new LocalChain(paths, output).UpAsync(cancellationToken);
            Print(state, paths, output);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Down()
    {
        var command = new Command("down", "Stop everything 'kfci local up' started.");
        CliAction.Set(command, (parse, _) =>
        {
            var paths = KfciPaths.Discover();
            var output = parse.InvocationConfiguration.Output;
            if (LocalStackState.Load(paths.Home) is not { } state)
            {
                output.WriteLine("kfci local stack is not running.");
                return Task.FromResult(ExitCodes.Success);
            }

            LocalChain.Down(state);
            LocalStackState.Delete(paths.Home);
            output.WriteLine($"Stopped {state.Processes.Count} processes (results, repositories and logs stay in {paths.Home}).");
            return Task.FromResult(ExitCodes.Success);
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
        var format = new Option<string>("--format") { Description = "text (default) or json: {runId, state, result, resultsPath, reason, workflows}." };
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
        var command = new Command("scheduler", "The local stand-in for Cloud Scheduler: a watcher tick every 30 s (started by 'local up').") { Hidden = true };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            try
            {
                await LocalScheduler.RunAsync(parse.InvocationConfiguration.Output, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped by 'local down' (SIGTERM): a normal end.
            }

            return ExitCodes.Success;
        });
        return command;
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
