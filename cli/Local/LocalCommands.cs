using System.CommandLine;
using Kfci.Cli.CommandLine;

namespace Kfci.Cli.Local;

/// <summary><c>kfci local up|down|status</c>: the whole chain on this machine.</summary>
public static class LocalCommands
{
    public static Command Create()
    {
        var local = new Command("local", "Run the whole kfci chain on this machine: emulators and the four functions on loopback.");
        local.Subcommands.Add(Up());
        local.Subcommands.Add(Down());
        local.Subcommands.Add(Status());
        local.Subcommands.Add(Kfci.Cli.Engine.EngineCommand.Create());
        return local;
    }

    private static Command Up()
    {
        var command = new Command("up", "Start the Pub/Sub and Firestore emulators and the four function hosts, and print where they are.");
        CliAction.Set(command, async (_, cancellationToken) =>
        {
            var paths = KfciPaths.Discover();
            var state = await new LocalChain(paths, Console.Out).UpAsync(cancellationToken);
            Print(state, paths);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Down()
    {
        var command = new Command("down", "Stop everything 'kfci local up' started.");
        CliAction.Set(command, (_, _) =>
        {
            var paths = KfciPaths.Discover();
            if (LocalStackState.Load(paths.Home) is not { } state)
            {
                Console.WriteLine("kfci local stack is not running.");
                return Task.FromResult(ExitCodes.Success);
            }

            LocalChain.Down(state);
            LocalStackState.Delete(paths.Home);
            Console.WriteLine($"Stopped {state.Processes.Count} processes.");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Check every process of the local stack; exit 1 if any is unhealthy.");
        CliAction.Set(command, async (_, cancellationToken) =>
        {
            var paths = KfciPaths.Discover();
            if (LocalStackState.Load(paths.Home) is not { } state)
            {
                Console.WriteLine("kfci local stack is not running (kfci local up starts it).");
                return ExitCodes.Failure;
            }

            var healthy = true;
            foreach (var process in state.Processes)
            {
                var ok = await LocalChain.IsHealthyAsync(process, cancellationToken);
                healthy &= ok;
                Console.WriteLine($"{process.Name,-20} {process.HostPort,-18} {(ok ? "healthy" : "DOWN")}  log: {process.LogFile}");
            }

            return healthy ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    private static void Print(LocalStackState state, KfciPaths paths)
    {
        Console.WriteLine($"kfci local stack is up (project {state.Project}, state in {paths.Home}):");
        foreach (var process in state.Processes)
        {
            Console.WriteLine($"  {process.Name,-20} http://{process.HostPort}/   log: {process.LogFile}");
        }

        var pubSub = state.Find("pubsub-emulator");
        if (pubSub is not null)
        {
            Console.WriteLine();
            Console.WriteLine("Publish to it with gcloud:");
            Console.WriteLine($"  CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://{pubSub.HostPort}/ CLOUDSDK_CORE_PROJECT={state.Project} "
                + "CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true gcloud pubsub topics publish prow-events --message='{...}'");
        }
    }
}
