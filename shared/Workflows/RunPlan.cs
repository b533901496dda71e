using System.Text.Json.Nodes;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Runs;
using Kfci.Sources;

namespace Kfci.Workflows;

/// <summary>A run that cannot be planned at all (no or invalid <c>prow_config.yaml</c>, a missing or invalid workflow file). Permanent.</summary>
public sealed class RunPlanningException : Exception
{
    public RunPlanningException()
    {
    }

    public RunPlanningException(string message)
        : base(message)
    {
    }

    public RunPlanningException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>One workflow to submit: the plan entry it came from and the rendered object.</summary>
public sealed record RenderedWorkflow(PlanEntry Entry, JsonObject Workflow)
{
    public string Name => Entry.WorkflowName!;
}

/// <summary>
/// What a run will do: every entry's decision, the rendered workflows of the selected supported entries, and one error
/// line per selected entry kfci cannot render. Recomputed identically on every redelivery (same commit, same names).
/// </summary>
public sealed record RunPlan(IReadOnlyList<PlanEntry> Entries, IReadOnlyList<RenderedWorkflow> Workflows, IReadOnlyList<string> Errors)
{
    public const string ConfigPath = "prow_config.yaml";

    /// <summary>
    /// The rendered workflows of one run together, as JSON: a few entries naming the same 1 MiB file must not hold a
    /// Trigger instance's memory hostage (Kubernetes refuses objects over about 1.5 MiB anyway).
    /// </summary>
    public const int MaxRenderedBytes = 4 * 1024 * 1024;

    /// <summary>Reads the config and workflow files at the commit under test, plans and renders.</summary>
    /// <exception cref="RunPlanningException">The run cannot be planned; the message is the one-line reason.</exception>
    public static async Task<RunPlan> BuildAsync(
        IRepositorySource source, ProwJobSpec job, IReadOnlyDictionary<string, string> envs, WorkflowRenderOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(job);
        var refs = job.PrimaryRefs ?? throw new RunPlanningException($"{job.Type.ToProwString()} job {job.JobName} names no repository, so there is no {ConfigPath} to read");
        try
        {
            var repository = new RepositoryName(refs.Org, refs.Repo);
            var commit = CommitUnderTest(job, refs);
            var where = $"{repository}@{(commit.Length > 12 ? commit[..12] : commit)}";
            var configBytes = await source.ReadFileAsync(repository, commit, ConfigPath, ProwConfigParser.MaxBytes, cancellationToken)
                ?? throw new RunPlanningException($"{where} has no {ConfigPath}");
            var config = ProwConfigParser.Parse(configBytes, ConfigPath);
            var changed = job.Type == JobType.Periodic ? [] : await source.ChangedFilesAsync(job, cancellationToken);
            var entries = Planner.Plan(config, job, changed);

            var workflows = new List<RenderedWorkflow>();
            var errors = new List<string>();
            long renderedBytes = 0;
            foreach (var entry in entries.Where(e => e.Selected))
            {
                if (entry.Entry.Workflow is not { } path)
                {
                    errors.Add($"entry {entry.Index} ({entry.Name}) is selected but cannot run: {entry.Entry.UnsupportedReason}");
                    continue;
                }

                var workflow = await RenderEntryAsync(source, repository, commit, path, job, entry, envs, options, where, cancellationToken);
                renderedBytes += System.Text.Encoding.UTF8.GetByteCount(workflow.ToJsonString());
                if (renderedBytes > MaxRenderedBytes)
                {
                    throw new RunPlanningException($"{where}: the selected entries' workflows come to more than {MaxRenderedBytes} bytes rendered (at entry {entry.Index} ({entry.Name})); split the job or shrink its workflows");
                }

                workflows.Add(new RenderedWorkflow(entry, workflow));
            }

            return new RunPlan(entries, workflows, errors);
        }
        catch (Exception e) when (e is ProwConfigException or WorkflowRenderException or SourceNotFoundException or SourceLimitException or ArgumentException)
        {
            throw new RunPlanningException(OneLine(e.Message), e);
        }
    }

    /// <summary>One selected entry's workflow file, read at the commit under test and rendered as it will be submitted.</summary>
    /// <exception cref="RunPlanningException">The file does not exist at the commit.</exception>
    /// <exception cref="WorkflowRenderException">The file is not a workflow kfci can render.</exception>
    public static async Task<JsonObject> RenderEntryAsync(
        IRepositorySource source,
        RepositoryName repository,
        string commit,
        string path,
        ProwJobSpec job,
        PlanEntry entry,
        IReadOnlyDictionary<string, string>? envs,
        WorkflowRenderOptions options,
        string where,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(entry);
        var bytes = await source.ReadFileAsync(repository, commit, path, WorkflowRenderer.MaxBytes, cancellationToken)
            ?? throw new RunPlanningException($"entry {entry.Index} ({entry.Name}): workflow file {path} does not exist at {where}");
        return WorkflowRenderer.Render(bytes, job, entry, options, envs);
    }

    /// <summary>The plan as the run document records it.</summary>
    public IReadOnlyList<PlannedEntry> Recorded => Entries
        .Select(e => new PlannedEntry(e.Index, e.Name, e.Selected, e.Supported, e.Supported ? e.Reason : $"{e.Reason}; {e.Entry.UnsupportedReason}", e.WorkflowName))
        .ToList();

    /// <summary>
    /// Presubmits read the PR head; postsubmits and batches the base commit (a batch tests several PRs merged onto it);
    /// periodics their base sha. A job without a sha there cannot be read at a fixed commit.
    /// </summary>
    private static string CommitUnderTest(ProwJobSpec job, Refs refs)
    {
        var sha = job.Type == JobType.Presubmit ? refs.FirstPull?.Sha : refs.BaseSha;
        return string.IsNullOrEmpty(sha)
            ? throw new RunPlanningException($"{job.Type.ToProwString()} job {job.JobName} gives no commit sha for {refs.Org}/{refs.Repo} ({(job.Type == JobType.Presubmit ? "pulls[0].sha" : "base_sha")})")
            : sha;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
