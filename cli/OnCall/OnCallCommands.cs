using System.CommandLine;
using System.Globalization;
using Kfci.Cli.CommandLine;
using Kfci.Cli.Commands;
using Kfci.Prow;
using Kfci.Runs;

namespace Kfci.Cli.OnCall;

/// <summary>
/// The on-call commands: <c>trigger</c>, <c>runs list|show</c>, <c>logs</c>, <c>replay</c>. They work against the local
/// stack or a real project (<see cref="CliContext"/>); <paramref name="environment"/> replaces the process environment (tests).
/// </summary>
public sealed class OnCallCommands(Func<string, string?>? environment = null)
{
    private static readonly TimeSpan s_defaultWait = TimeSpan.FromSeconds(60);

    public IEnumerable<Command> Create() => [Trigger(), Runs(), Logs(), Replay()];

    private static Option<string> ProjectOption() => new("--project") { Description = "The project whose chain to use (default: KFCI_PROJECT, else the local stack)." };

    private static Option<string> FormatOption() => new("--format") { Description = "text (default) or json (the run documents as Firestore holds them, camelCase)." };

    private static bool IsJson(ParseResult parse, Option<string> format) => parse.GetValue(format) switch
    {
        null or "text" => false,
        "json" => true,
        var other => throw new CliException($"--format must be text or json, not '{other}'"),
    };

    private static Option<string> WaitOption() => new("--wait") { Description = "Seconds to wait for the Trigger to record the run (default 60; 0 prints the message id only)." };

    private Command Trigger()
    {
        var jobName = new Option<string>("--job-name") { Description = "Prow job name (required)." };
        var jobType = new Option<string>("--job-type") { Description = "presubmit, postsubmit or periodic (required)." };
        var owner = new Option<string>("--repo-owner") { Description = "Repository owner (required except for periodics)." };
        var repo = new Option<string>("--repo-name") { Description = "Repository name (required except for periodics)." };
        var baseRef = new Option<string>("--base-ref") { Description = "Base branch (PULL_BASE_REF)." };
        var baseSha = new Option<string>("--base-sha") { Description = "Base sha (PULL_BASE_SHA); postsubmits need it." };
        var pullNumber = new Option<string>("--pull-number") { Description = "Pull request number; presubmits need it." };
        var pullSha = new Option<string>("--pull-sha") { Description = "Pull request head sha; presubmits need it." };
        var env = new Option<string[]>("--env") { Description = "Extra environment for the job, K=V (repeatable).", AllowMultipleArgumentsPerToken = false };
        var project = ProjectOption();
        var wait = WaitOption();
        var command = new Command("trigger", "Publish a Prow sub-style event for a job to prow-events (as gcloud pubsub topics publish would) and print the run id.")
        {
            jobName, jobType, owner, repo, baseRef, baseSha, pullNumber, pullSha, env, project, wait,
        };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var type = JobTypeOf(parse.GetValue(jobType));
            var name = CliInputs.Required(parse.GetValue(jobName), "--job-name N");
            Refs? refs = null;
            if (parse.GetValue(owner) is { } org || type != JobType.Periodic)
            {
                var number = parse.GetValue(pullNumber) is { } text ? PositiveInt(text, "--pull-number") : (int?)null;
                refs = new Refs
                {
                    Org = CliInputs.Required(parse.GetValue(owner), "--repo-owner O"),
                    Repo = CliInputs.Required(parse.GetValue(repo), "--repo-name R"),
                    BaseRef = parse.GetValue(baseRef),
                    BaseSha = parse.GetValue(baseSha),
                    Pulls = number is { } n ? [new Pull { Number = n, Sha = parse.GetValue(pullSha) ?? "" }] : null,
                };
            }

            var request = new TriggerRequest(type, name, refs, EnvPairs(parse.GetValue(env) ?? []));
            using var context = CliContext.Resolve(parse.GetValue(project), environment);
            return await StartAsync(context, request, WaitTime(parse.GetValue(wait)), parse.InvocationConfiguration.Output, cancellationToken);
        });
        return command;
    }

    private Command Replay()
    {
        var run = new Argument<string>("RUN") { Description = "The run id to re-run." };
        var project = ProjectOption();
        var wait = WaitOption();
        var command = new Command("replay", "Re-run a run's job at the same commit under a new build id (publishes the same sub-style event again).") { run, project, wait };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            using var context = CliContext.Resolve(parse.GetValue(project), environment);
            var original = await GetRunAsync(context, parse.GetValue(run), cancellationToken);
            var request = TriggerRequest.Replay(original);
            return await StartAsync(context, request, WaitTime(parse.GetValue(wait)), parse.InvocationConfiguration.Output, cancellationToken);
        });
        return command;
    }

    private Command Runs()
    {
        var runs = new Command("runs", "List runs, or show one: plan with reasons, workflows with phases and links, results, errors.");
        runs.Subcommands.Add(RunsList());
        runs.Subcommands.Add(RunsShow());
        return runs;
    }

    private Command RunsList()
    {
        var job = new Option<string>("--job") { Description = "Only this job's runs." };
        var state = new Option<string>("--state") { Description = "Only runs in this state (planning, submitted, completed, finished, error, aborted)." };
        var limit = new Option<string>("--limit") { Description = "At most this many, newest first (default 20)." };
        var project = ProjectOption();
        var format = FormatOption();
        var command = new Command("list", "List runs, newest first.") { job, state, limit, project, format };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            RunState? wanted = parse.GetValue(state) is { } text
                ? (RunStates.TryParse(text, out var parsed) ? parsed : throw new CliException($"--state {text}: use planning, submitted, completed, finished, error or aborted"))
                : null;
            var count = CliInputs.Int(parse.GetValue(limit), "--limit", 20);
            if (count is < 1 or > 1000)
            {
                throw new CliException("--limit must be between 1 and 1000");
            }

            using var context = CliContext.Resolve(parse.GetValue(project), environment);
            var found = await context.Runs.ListAsync(new RunQuery(parse.GetValue(job), wanted, count), cancellationToken);
            await parse.InvocationConfiguration.Output.WriteAsync(IsJson(parse, format) ? RunText.Json(new { runs = found }) : RunText.List(found));
            return ExitCodes.Success;
        });
        return command;
    }

    private Command RunsShow()
    {
        var run = new Argument<string>("RUN") { Description = "The run id." };
        var project = ProjectOption();
        var format = FormatOption();
        var command = new Command("show", "Show one run: identity, plan with reasons, workflows with phases and UI links, results path, errors, history.") { run, project, format };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            using var context = CliContext.Resolve(parse.GetValue(project), environment);
            var record = await GetRunAsync(context, parse.GetValue(run), cancellationToken);
            await parse.InvocationConfiguration.Output.WriteAsync(IsJson(parse, format) ? RunText.Json(record) : RunText.Show(record, context.ResultsForPeople));
            return ExitCodes.Success;
        });
        return command;
    }

    private Command Logs()
    {
        var run = new Argument<string>("RUN") { Description = "The run id." };
        var workflow = new Option<string>("--workflow") { Description = "Only this workflow's step logs (default: the combined build-log.txt)." };
        var step = new Option<string>("--step") { Description = "Only this step's log." };
        var project = ProjectOption();
        var command = new Command("logs", "Print a run's logs from the results store: build-log.txt, or artifacts/logs/<workflow>/<step>.log.") { run, workflow, step, project };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            using var context = CliContext.Resolve(parse.GetValue(project), environment);
            var record = await GetRunAsync(context, parse.GetValue(run), cancellationToken);
            var logs = new RunLogs(context, record);
            await logs.WriteAsync(parse.GetValue(workflow), parse.GetValue(step), parse.InvocationConfiguration.Output, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Publishes, then waits for the run and prints its id (or only the message id).</summary>
    internal static async Task<int> StartAsync(CliContext context, TriggerRequest request, TimeSpan wait, TextWriter output, CancellationToken cancellationToken)
    {
        var published = await RunStarter.PublishAsync(context.PubSub, request, cancellationToken);
        if (wait <= TimeSpan.Zero)
        {
            await output.WriteLineAsync($"published message {published.MessageId} to prow-events ({context.Description})");
            return ExitCodes.Success;
        }

        var run = await RunStarter.WaitForRunAsync(context.Runs, request.JobName, published, wait, cancellationToken)
            ?? throw new CliException($"published message {published.MessageId}, but the Trigger recorded no run for it within {wait.TotalSeconds:0}s (is it running? kfci runs list --job {request.JobName})");
        await output.WriteLineAsync(run.RunId);
        return ExitCodes.Success;
    }

    internal static async Task<RunRecord> GetRunAsync(CliContext context, string? runId, CancellationToken cancellationToken)
    {
        var id = CliInputs.Required(runId, "RUN");
        if (!RunIds.IsValid(id))
        {
            throw new CliException($"'{id}' is not a kfci run id (lowercase letters, digits and '-', at most 63)");
        }

        return await context.Runs.GetAsync(id, cancellationToken)
            ?? throw new CliException($"no run {id} in {context.Description} (kfci runs list shows the recent ones)");
    }

    internal static JobType JobTypeOf(string? text)
    {
        var value = CliInputs.Required(text, "--job-type presubmit|postsubmit|periodic");
        return JobTypes.TryParse(value, out var type) && type != JobType.Batch
            ? type
            : throw new CliException($"--job-type must be presubmit, postsubmit or periodic, not '{value}'");
    }

    internal static int PositiveInt(string text, string option) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new CliException($"{option} must be a positive number, not '{text}'");

    private static Dictionary<string, string> EnvPairs(IEnumerable<string> pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"--env {pair}: use NAME=VALUE");
            }

            result[pair[..equals]] = pair[(equals + 1)..];
        }

        return result;
    }

    private static TimeSpan WaitTime(string? text) =>
        text is null ? s_defaultWait : TimeSpan.FromSeconds(CliInputs.Int(text, "--wait", 60));
}
