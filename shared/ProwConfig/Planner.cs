using Kfci.Prow;

namespace Kfci.ProwConfig;

/// <summary>The decision for one <c>prow_config.yaml</c> entry.</summary>
/// <param name="Entry">The entry.</param>
/// <param name="Selected">The filter decision alone: job type, <c>exclude_dirs</c>, <c>include_dirs</c>.</param>
/// <param name="Reason">Why, in one line (e.g. <c>job type postsubmit not in [presubmit]</c>).</param>
/// <param name="WorkflowName">The workflow's name in this run; null exactly when not selected.</param>
public sealed record PlanEntry(WorkflowEntry Entry, bool Selected, string Reason, string? WorkflowName)
{
    public int Index => Entry.Index;

    public string Name => Entry.Name;

    /// <summary>Whether kfci can render the entry (it names a <c>workflow:</c>); see <see cref="WorkflowEntry.UnsupportedReason"/>.</summary>
    public bool Supported => Entry.IsSupported;
}

/// <summary>
/// Decides which entries of a <c>prow_config.yaml</c> run, with kubeflow's rules: an entry whose <c>job_types</c> is
/// non-empty runs only for those types; periodics ignore file filters; other types drop changed files matching
/// <c>exclude_dirs</c>, skip the entry if it has <c>exclude_dirs</c> and nothing is left, and, if it has
/// <c>include_dirs</c>, run it only when a remaining file matches one (Python fnmatch).
/// </summary>
public static class Planner
{
    /// <summary>Every entry of <paramref name="config"/>, in config order, with its decision, reason and (if selected) workflow name.</summary>
    /// <param name="config">The parsed config.</param>
    /// <param name="job">The job being run; its type drives the filters and its identity the names.</param>
    /// <param name="changedFiles">Repository-relative paths; ignored for periodics. Never null.</param>
    public static IReadOnlyList<PlanEntry> Plan(ProwConfigFile config, ProwJobSpec job, IReadOnlyList<string> changedFiles)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(changedFiles);
        var names = WorkflowNames.For(job, config.Workflows.Select(entry => entry.Name).ToList());
        return config.Workflows.Select((entry, i) =>
        {
            var (selected, reason) = Decide(entry, job.Type, changedFiles);
            return new PlanEntry(entry, selected, reason, selected ? names[i] : null);
        }).ToList();
    }

    /// <summary>The filter decision for one entry and the one-line reason for it.</summary>
    public static (bool Selected, string Reason) Decide(WorkflowEntry entry, JobType type, IReadOnlyList<string> changedFiles)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(changedFiles);
        var typeName = type.ToProwString();
        string typeReason;
        if (entry.JobTypes.Count == 0)
        {
            typeReason = "job_types empty (every type)";
        }
        else if (entry.JobTypes.Contains(typeName) || (type == JobType.Batch && entry.JobTypes.Contains("presubmit")))
        {
            // A batch is Prow running presubmits on several PRs merged together, so presubmit entries apply to it.
            typeReason = $"job type {typeName} in {List(entry.JobTypes)}";
        }
        else
        {
            return (false, $"job type {typeName} not in {List(entry.JobTypes)}");
        }

        var (selected, filesReason) = DecideFiles(entry, type, changedFiles);
        return (selected, $"{typeReason}; {filesReason}");
    }

    private static (bool Selected, string Reason) DecideFiles(WorkflowEntry entry, JobType type, IReadOnlyList<string> changedFiles)
    {
        var filtered = entry.IncludeDirs.Count > 0 || entry.ExcludeDirs.Count > 0;
        if (type == JobType.Periodic)
        {
            return (true, filtered ? "periodic runs ignore include_dirs and exclude_dirs" : "no include_dirs");
        }

        var files = changedFiles;
        if (entry.ExcludeDirs.Count > 0)
        {
            var excludes = entry.ExcludeDirs.Select(Fnmatch.Compile).ToList();
            files = changedFiles.Where(file => !excludes.Any(pattern => pattern.IsMatch(file))).ToList();
            if (files.Count == 0)
            {
                return (false, changedFiles.Count == 0
                    ? $"no changed files (exclude_dirs {List(entry.ExcludeDirs)} needs one left)"
                    : $"all changed files excluded by exclude_dirs {List(entry.ExcludeDirs)}");
            }
        }

        if (entry.IncludeDirs.Count == 0)
        {
            return (true, entry.ExcludeDirs.Count > 0 ? $"{files.Count} changed files left after exclude_dirs; no include_dirs" : "no include_dirs");
        }

        var includes = entry.IncludeDirs.Select(Fnmatch.Compile).ToList();
        foreach (var file in files)
        {
            if (includes.FirstOrDefault(pattern => pattern.IsMatch(file)) is { } match)
            {
                return (true, $"matched '{file}' by '{match.Pattern}'");
            }
        }

        return (false, $"no changed file matches include_dirs {List(entry.IncludeDirs)}");
    }

    private static string List(IEnumerable<string> items) => $"[{string.Join(", ", items)}]";
}
