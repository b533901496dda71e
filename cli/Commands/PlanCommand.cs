using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Kfci.Cli.CommandLine;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Sources;
using Kfci.Workflows;

namespace Kfci.Cli.Commands;

/// <summary>
/// <c>kfci plan</c>: which workflows of a <c>prow_config.yaml</c> a Prow job would run, and why, without submitting
/// anything; the replacement for hand-made ProwJobs with <c>mkpj</c>. Its JSON output is a contract other tools rely on.
/// </summary>
public static class PlanCommand
{
    private const string DefaultJobName = "kfci-plan";
    private const string DefaultBuildId = "0";

    private static readonly string[] s_header = ["#", "NAME", "SELECTED", "SUPPORTED", "WORKFLOW", "REASON"];

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,

        // The output is read by people and scripts, never embedded in HTML: keep '<' and quotes readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public static Command Create()
    {
        var o = new PlanOptions();
        var command = new Command("plan", "Print which prow_config.yaml workflows a Prow job would run, with a reason for each, without submitting anything.")
        {
            o.ProwConfig, o.Event, o.EventType, o.Repo, o.JobType, o.ChangedFiles, o.JobName, o.BuildId, o.RepoOwner, o.RepoName, o.PullNumber, o.PullSha, o.BaseSha, o.BaseRef, o.Format, o.Render,
        };

        // Unknown arguments are reported by the action, so that they too exit 2 with one line like every other bad input.
        command.TreatUnmatchedTokensAsErrors = false;
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            if (parse.UnmatchedTokens.Count > 0)
            {
                throw new CliException($"unknown argument '{parse.UnmatchedTokens[0]}' (see kfci plan --help)");
            }

            var format = parse.GetValue(o.Format) ?? "table";
            if (format is not ("table" or "json"))
            {
                throw new CliException($"--format must be table or json, not '{format}'");
            }

            var inputs = await ResolveInputsAsync(parse, o, cancellationToken);
            var plan = Planner.Plan(inputs.Config, inputs.Job, inputs.ChangedFiles);

            var rendered = parse.GetValue(o.Render) ? await RenderAsync(inputs, plan, cancellationToken) : null;
            var output = parse.InvocationConfiguration.Output;
            await output.WriteAsync(format == "json" ? Json(plan, rendered) : Table(plan) + Documents(rendered));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// The selected, supported entries rendered exactly as the Trigger would submit them, their workflow files read at the
    /// commit under test (so <c>--repo</c> is required).
    /// </summary>
    private static async Task<IReadOnlyList<JsonObject>> RenderAsync(PlanInputs inputs, IReadOnlyList<PlanEntry> plan, CancellationToken cancellationToken)
    {
        if (inputs.Source is null || inputs.Commit is null || inputs.Job.PrimaryRefs is not { } refs)
        {
            throw new CliException("--render needs --repo DIR: the workflow files are read at the commit under test");
        }

        var repository = new RepositoryName(refs.Org, refs.Repo);
        var options = RenderOptions();
        var rendered = new List<JsonObject>();
        foreach (var entry in plan.Where(e => e.Selected && e.Entry.Workflow is not null))
        {
            try
            {
                rendered.Add(await RunPlan.RenderEntryAsync(
                    inputs.Source, repository, inputs.Commit, entry.Entry.Workflow!, inputs.Job, entry, null, options, inputs.Commit, cancellationToken));
            }
            catch (Exception e) when (e is RunPlanningException or WorkflowRenderException or SourceLimitException or SourceNotFoundException)
            {
                throw new CliException(e is RunPlanningException ? e.Message : $"entry {entry.Index} ({entry.Name}): {e.Message.ReplaceLineEndings(" ")}");
            }
        }

        return rendered;
    }

    /// <summary>The Trigger's defaults under the policy in <c>KFCI_WORKFLOW_POLICY</c>, so the plan refuses what the Trigger would.</summary>
    private static WorkflowRenderOptions RenderOptions()
    {
        try
        {
            return new WorkflowRenderOptions { Policy = WorkflowPolicy.FromEnvironment(Environment.GetEnvironmentVariable) };
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>Rendered workflows as a YAML stream of JSON documents (JSON is YAML), ready for <c>kubectl create -f -</c>.</summary>
    private static string Documents(IReadOnlyList<JsonObject>? rendered) =>
        rendered is null ? "" : string.Concat(rendered.Select(w => "---" + Environment.NewLine + w.ToJsonString(s_json) + Environment.NewLine));

    private static async Task<ProwConfigFile> ReadConfigAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (file.Exists && file.Length > ProwConfigParser.MaxBytes)
        {
            throw new CliException($"{file.FullName}: {file.Length} bytes is more than the {ProwConfigParser.MaxBytes} a prow_config.yaml may have");
        }

        var bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
        try
        {
            return ProwConfigParser.Parse(bytes, file.FullName);
        }
        catch (ProwConfigException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static async Task<IReadOnlyList<string>> ReadChangedFilesAsync(FileInfo? file, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            return [];
        }

        var lines = await File.ReadAllLinesAsync(file.FullName, cancellationToken);
        return lines.Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToList();
    }

    /// <summary>
    /// The config, job and changed files to plan: from the explicit flags, an <c>--event</c> file, or a <c>--repo</c>
    /// read at the commit under test, explicit flags winning over both.
    /// </summary>
    private static async Task<PlanInputs> ResolveInputsAsync(ParseResult parse, PlanOptions o, CancellationToken cancellationToken)
    {
        var eventType = parse.GetValue(o.EventType);
        var eventJob = parse.GetValue(o.Event) is { } eventFile
            ? await EventFile.ReadAsync(eventFile, eventType, TimeProvider.System, cancellationToken)
            : eventType is null ? null : throw new CliException("--event-type needs --event FILE");
        var job = JobFrom(parse, o, eventJob);
        var configFile = parse.GetValue(o.ProwConfig);
        var changedFilesFile = parse.GetValue(o.ChangedFiles);
        if (parse.GetValue(o.Repo) is not { } repoDirectory)
        {
            var config = configFile is null
                ? throw new CliException("--prow-config FILE is required (or --repo DIR to read it at the commit under test)")
                : await ReadConfigAsync(configFile, cancellationToken);
            return new PlanInputs(config, job, await ReadChangedFilesAsync(changedFilesFile, cancellationToken), null, null);
        }

        try
        {
            var repository = await RepositoryInputs.ResolveAsync(repoDirectory, job, cancellationToken);
            var config = configFile is not null ? await ReadConfigAsync(configFile, cancellationToken) : await repository.ReadConfigAsync(cancellationToken);
            var changedFiles = changedFilesFile is not null
                ? await ReadChangedFilesAsync(changedFilesFile, cancellationToken)
                : await repository.Source.ChangedFilesAsync(repository.Job, cancellationToken);
            return new PlanInputs(config, repository.Job, changedFiles, repository.Source, repository.Commit);
        }
        catch (Exception e) when (e is SourceNotFoundException or SourceLimitException or GitCommandException or TimeoutException)
        {
            throw new CliException($"--repo {repoDirectory.FullName}: {e.Message}");
        }
    }

    /// <summary>The job from the flags, each flag overriding what <paramref name="eventJob"/> said.</summary>
    private static ProwJobSpec JobFrom(ParseResult parse, PlanOptions o, ProwJobSpec? eventJob)
    {
        var typeText = parse.GetValue(o.JobType);
        JobType type;
        if (typeText is null)
        {
            type = eventJob?.Type ?? throw new CliException("--job-type presubmit|postsubmit|periodic|batch is required (or --event FILE)");
        }
        else if (!JobTypes.TryParse(typeText, out type))
        {
            throw new CliException($"--job-type must be presubmit, postsubmit, periodic or batch, not '{typeText}'");
        }

        var jobName = parse.GetValue(o.JobName) ?? eventJob?.JobName ?? DefaultJobName;
        var buildId = parse.GetValue(o.BuildId) ?? eventJob?.BuildId ?? DefaultBuildId;
        if (jobName.Length == 0 || buildId.Length == 0)
        {
            throw new CliException("--job-name and --build-id must not be empty");
        }

        var fromEvent = eventJob?.PrimaryRefs;
        var pullSha = parse.GetValue(o.PullSha);
        IReadOnlyList<Pull>? pulls = parse.GetValue(o.PullNumber) is { } number
            ? [new Pull { Number = PullNumber(number), Sha = pullSha ?? fromEvent?.FirstPull?.Sha ?? "" }]
            : fromEvent?.Pulls is { Count: > 0 } eventPulls && pullSha is not null ? [eventPulls[0] with { Sha = pullSha }, .. eventPulls.Skip(1)]
            : fromEvent?.Pulls;
        var refs = (fromEvent ?? new Refs { Org = "", Repo = "" }) with
        {
            Org = parse.GetValue(o.RepoOwner) ?? fromEvent?.Org ?? "",
            Repo = parse.GetValue(o.RepoName) ?? fromEvent?.Repo ?? "",
            BaseRef = parse.GetValue(o.BaseRef) ?? fromEvent?.BaseRef,
            BaseSha = parse.GetValue(o.BaseSha) ?? fromEvent?.BaseSha,
            Pulls = pulls,
        };

        // Further repositories of the event stay as they were; only the primary one is overridden.
        var extraRefs = eventJob is null ? [] : (eventJob.Refs is null ? eventJob.ExtraRefs.Skip(1) : eventJob.ExtraRefs).ToList();
        return type == JobType.Periodic
            ? new ProwJobSpec(type, jobName, buildId, null, refs.Org.Length > 0 ? [refs, .. extraRefs] : extraRefs)
            : new ProwJobSpec(type, jobName, buildId, refs, extraRefs);
    }

    private static int PullNumber(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new CliException($"--pull-number must be a positive number, not '{text}'");

    private static string Reason(PlanEntry entry) =>
        entry.Supported ? entry.Reason : $"{entry.Reason}; {entry.Entry.UnsupportedReason}";

    private static string Json(IReadOnlyList<PlanEntry> plan, IReadOnlyList<JsonObject>? rendered) =>
        JsonSerializer.Serialize(
            new PlanJson(plan.Select(e => new PlanEntryJson(e.Index, e.Name, e.Selected, e.Supported, Reason(e), e.WorkflowName)).ToList(), rendered),
            s_json) + Environment.NewLine;

    private static string Table(IReadOnlyList<PlanEntry> plan)
    {
        var rows = new List<string[]> { s_header };
        rows.AddRange(plan.Select(e => new[]
        {
            e.Index.ToString(CultureInfo.InvariantCulture), e.Name, e.Selected ? "yes" : "no", e.Supported ? "yes" : "no", e.WorkflowName ?? "-", Reason(e),
        }));
        var widths = Enumerable.Range(0, rows[0].Length - 1).Select(column => rows.Max(row => row[column].Length)).ToArray();
        var lines = rows.Select(row => string.Join("  ", row.Select((cell, column) => column < widths.Length ? cell.PadRight(widths[column]) : cell)));
        var summary = $"{plan.Count(e => e.Selected)} of {plan.Count} workflows selected, {plan.Count(e => e.Selected && !e.Supported)} of them unsupported";
        return string.Join(Environment.NewLine, lines.Append(summary)) + Environment.NewLine;
    }

    /// <summary>The options, made per command so that commands built concurrently (tests) share nothing.</summary>
    private sealed class PlanOptions
    {
        public Option<FileInfo> ProwConfig { get; } = new("--prow-config") { Description = "The prow_config.yaml to plan (required unless --repo)." };
        public Option<FileInfo> Event { get; } = new("--event") { Description = "A Prow event as published (Pub/Sub message JSON, crier report or sub-style data) to take the job from; explicit flags override it." };
        public Option<string> EventType { get; } = new("--event-type") { Description = "periodic, postsubmit or presubmit: the type of a sub-style --event given as bare data (default: inferred from its refs)." };
        public Option<DirectoryInfo> Repo { get; } = new("--repo") { Description = "A local git repository: read prow_config.yaml at the commit under test and compute the changed files with git." };
        public Option<string> JobType { get; } = new("--job-type") { Description = "presubmit, postsubmit, periodic or batch (required)." };
        public Option<FileInfo> ChangedFiles { get; } = new("--changed-files") { Description = "File with the changed paths, one per line (default: none changed)." };
        public Option<string> JobName { get; } = new("--job-name") { Description = $"Prow job name (default {DefaultJobName})." };
        public Option<string> BuildId { get; } = new("--build-id") { Description = $"Build id (default {DefaultBuildId})." };
        public Option<string> RepoOwner { get; } = new("--repo-owner") { Description = "Repository owner (REPO_OWNER)." };
        public Option<string> RepoName { get; } = new("--repo-name") { Description = "Repository name (REPO_NAME)." };
        public Option<string> PullNumber { get; } = new("--pull-number") { Description = "Pull request number (PULL_NUMBER), presubmit." };
        public Option<string> PullSha { get; } = new("--pull-sha") { Description = "Pull request head sha (PULL_PULL_SHA), presubmit." };
        public Option<string> BaseSha { get; } = new("--base-sha") { Description = "Base sha (PULL_BASE_SHA)." };
        public Option<string> BaseRef { get; } = new("--base-ref") { Description = "Base branch (PULL_BASE_REF)." };
        public Option<bool> Render { get; } = new("--render") { Description = "Also print the selected workflows rendered as they would be submitted (needs --repo); in JSON as \"rendered\"." };
        public Option<string> Format { get; } = new("--format") { Description = "table (default) or json: {\"workflows\":[{index,name,selected,supported,reason,workflowName}]}, workflowName only when selected." };
    }

    /// <summary>What a plan is made from; <see cref="Source"/> and <see cref="Commit"/> are set with <c>--repo</c>.</summary>
    private sealed record PlanInputs(ProwConfigFile Config, ProwJobSpec Job, IReadOnlyList<string> ChangedFiles, IRepositorySource? Source, string? Commit);

    /// <summary>The contract's JSON; <see cref="Rendered"/> only with <c>--render</c>.</summary>
    private sealed record PlanJson(IReadOnlyList<PlanEntryJson> Workflows, IReadOnlyList<JsonObject>? Rendered = null);

    private sealed record PlanEntryJson(int Index, string Name, bool Selected, bool Supported, string Reason, string? WorkflowName);
}
