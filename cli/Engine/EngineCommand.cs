using System.CommandLine;
using Kfci.Cli.CommandLine;
using Kfci.Cli.Local;
using Kfci.Configuration;
using Kfci.PubSub;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Cli.Engine;

/// <summary>
/// <c>kfci local engine --port P</c> (hidden; <c>kfci local up</c> starts it): the local workflow engine behind the
/// Kubernetes REST facade on 127.0.0.1:P until SIGTERM. State under <c>KFCI_HOME/engine</c>, the NFS claim at
/// <c>KFCI_NFS_ROOT</c>; with <c>KFCI_PROJECT</c> set it publishes finished workflows' events to <c>argo-events</c>
/// (on the emulator when <c>PUBSUB_EMULATOR_HOST</c> is set).
/// </summary>
public static class EngineCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 to serve the Kubernetes API subset on (0: any free port).", Required = true };
        var command = new Command("engine", "Run the local workflow engine (Argo workflows on this host) behind a Kubernetes API on loopback.") { Hidden = true };
        command.Options.Add(port);
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            await RunAsync(parse.GetValue(port), Environment.GetEnvironmentVariable, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    public static async Task RunAsync(int port, Func<string, string?> getEnv, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var home = getEnv(KfciPaths.HomeVariable) is { Length: > 0 } configured ? Path.GetFullPath(configured) : KfciPaths.Discover().Home;
        var options = EngineOptions.ForHome(home, getEnv(KfciEnvironment.NfsRoot));
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        var logger = loggers.CreateLogger<LocalWorkflowEngine>();
        await using var publisher = getEnv(KfciEnvironment.Project) is { Length: > 0 } project
            ? new BatchingEventPublisher(PubSubClient.Create(project, getEnv: getEnv), logger: loggers.CreateLogger<BatchingEventPublisher>())
            : null;
        var sink = publisher is null ? null : new LoggingSinkEvents(publisher, getEnv(KfciEnvironment.Project)!);
        if (options.Bubblewrap is null)
        {
            logger.LogWarning("bubblewrap (bwrap) is not installed: steps that mount volumes will fail; run scripts/setup.sh");
        }

        var token = getEnv(KfciEnvironment.ClusterToken) is { Length: > 0 } stackToken
            ? stackToken
            : throw new CliException($"the local engine needs {KfciEnvironment.ClusterToken}, the stack's API token ('kfci local up' sets it)");
        await using var engine = new LocalWorkflowEngine(options, sink, logger);
        var (app, address) = await EngineApi.StartAsync(engine, port, token);
        await using (app)
        {
            logger.LogInformation("Local workflow engine serving {Address} (state {State}, NFS {Nfs}, {Slots} parallel steps, events {Events})",
                address, options.StateDirectory, options.NfsRoot, options.MaxParallelSteps, sink is null ? "not published" : KfciTopics.ArgoEvents);
            await app.WaitForShutdownAsync(cancellationToken);
        }
    }
}
