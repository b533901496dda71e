using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kfci.Cli.CommandLine;
using Kfci.Prow;
using Kfci.ProwConfig;

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
            o.ProwConfig, o.JobType, o.ChangedFiles, o.JobName, o.BuildId, o.RepoOwner, o.RepoName, o.PullNumber, o.PullSha, o.BaseSha, o.BaseRef, o.Format,
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

            var config = await ReadConfigAsync(parse.GetValue(o.ProwConfig), cancellationToken);
            var job = JobFrom(parse, o);
            var changedFiles = await ReadChangedFilesAsync(parse.GetValue(o.ChangedFiles), cancellationToken);
            var plan = Planner.Plan(config, job, changedFiles);
            var output = parse.InvocationConfiguration.Output;
            await output.WriteAsync(format == "json" ? Json(plan) : Table(plan));
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<ProwConfigFile> ReadConfigAsync(FileInfo? file, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            throw new CliException("--prow-config FILE is required");
        }

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

    private static ProwJobSpec JobFrom(ParseResult parse, PlanOptions o)
    {
        var typeText = parse.GetValue(o.JobType) ?? throw new CliException("--job-type presubmit|postsubmit|periodic|batch is required");
        if (!JobTypes.TryParse(typeText, out var type))
        {
            throw new CliException($"--job-type must be presubmit, postsubmit, periodic or batch, not '{typeText}'");
        }

        var jobName = parse.GetValue(o.JobName) ?? DefaultJobName;
        var buildId = parse.GetValue(o.BuildId) ?? DefaultBuildId;
        if (jobName.Length == 0 || buildId.Length == 0)
        {
            throw new CliException("--job-name and --build-id must not be empty");
        }

        IReadOnlyList<Pull>? pulls = parse.GetValue(o.PullNumber) is { } number
            ? [new Pull { Number = PullNumber(number), Sha = parse.GetValue(o.PullSha) ?? "" }]
            : null;
        var refs = new Refs
        {
            Org = parse.GetValue(o.RepoOwner) ?? "",
            Repo = parse.GetValue(o.RepoName) ?? "",
            BaseRef = parse.GetValue(o.BaseRef),
            BaseSha = parse.GetValue(o.BaseSha),
            Pulls = pulls,
        };
        return type == JobType.Periodic
            ? new ProwJobSpec(type, jobName, buildId, null, refs.Org.Length > 0 ? [refs] : [])
            : new ProwJobSpec(type, jobName, buildId, refs, []);
    }

    private static int PullNumber(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new CliException($"--pull-number must be a positive number, not '{text}'");

    private static string Reason(PlanEntry entry) =>
        entry.Supported ? entry.Reason : $"{entry.Reason}; {entry.Entry.UnsupportedReason}";

    private static string Json(IReadOnlyList<PlanEntry> plan) =>
        JsonSerializer.Serialize(
            new PlanJson(plan.Select(e => new PlanEntryJson(e.Index, e.Name, e.Selected, e.Supported, Reason(e), e.WorkflowName)).ToList()),
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
        public Option<FileInfo> ProwConfig { get; } = new("--prow-config") { Description = "The prow_config.yaml to plan (required)." };
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
        public Option<string> Format { get; } = new("--format") { Description = "table (default) or json: {\"workflows\":[{index,name,selected,supported,reason,workflowName}]}, workflowName only when selected." };
    }

    private sealed record PlanJson(IReadOnlyList<PlanEntryJson> Workflows);

    private sealed record PlanEntryJson(int Index, string Name, bool Selected, bool Supported, string Reason, string? WorkflowName);
}
