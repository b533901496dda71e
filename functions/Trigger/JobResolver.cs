using Kfci.Prow;
using Kfci.ProwJobs;
using Kfci.Sources;
using Kfci.Workflows;

namespace Kfci.Functions.Trigger;

/// <summary>A job as its run tests it, and what was filled in or resolved on the way (for the run's history).</summary>
public sealed record ResolvedJob(ProwJobSpec Job, IReadOnlyList<string> Notes);

/// <summary>
/// Completes a job's refs the way Prow does before it clones: a periodic named only by its name gets the
/// <c>extra_refs</c> Prow's job configuration gives it (as <c>sub</c> does), and every repository named by a branch and
/// no sha is pinned to that branch's head now (as clonerefs does), so every workflow of the run tests one commit.
/// </summary>
public sealed class JobResolver(IRepositorySource source, Lazy<ProwJobConfigSource?> prowJobs)
{
    /// <summary>A resolver with the job configuration at hand (or none).</summary>
    public JobResolver(IRepositorySource source, ProwJobConfigSource? prowJobs)
        : this(source, new Lazy<ProwJobConfigSource?>(prowJobs))
    {
    }

    /// <summary>Whether the job needs <see cref="ResolveAsync"/>: a periodic without repositories, or a repository without a sha.</summary>
    public static bool NeedsResolution(ProwJobSpec job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return (job.Type == JobType.Periodic && job.ExtraRefs.Count == 0) || AllRefs(job).Any(r => string.IsNullOrEmpty(r.BaseSha));
    }

    /// <summary>The job with its refs complete and every branch pinned to a sha.</summary>
    /// <exception cref="RunPlanningException">The periodic is unknown, or a branch does not exist: the one-line reason.</exception>
    public async Task<ResolvedJob> ResolveAsync(ProwJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var notes = new List<string>();
        if (job.Type == JobType.Periodic && job.ExtraRefs.Count == 0)
        {
            var periodic = await FindPeriodicAsync(job.JobName, cancellationToken);
            job = job with { ExtraRefs = periodic.ExtraRefs };
            notes.Add($"periodic {periodic.Name} from Prow's job configuration {prowJobs.Value!.Location}: {string.Join(", ", periodic.ExtraRefs.Select(r => $"{r.Org}/{r.Repo}@{r.BaseRef}"))}");
        }

        var refs = job.Refs is null ? null : await PinAsync(job.Refs, notes, cancellationToken);
        var extra = new List<Refs>();
        foreach (var one in job.ExtraRefs)
        {
            extra.Add(await PinAsync(one, notes, cancellationToken));
        }

        return new ResolvedJob(job with { Refs = refs, ExtraRefs = extra }, notes);
    }

    private async Task<PeriodicJob> FindPeriodicAsync(string name, CancellationToken cancellationToken)
    {
        var configured = Configured(name);
        if (configured is null)
        {
            throw new RunPlanningException(
                $"periodic job {name} names no repository: its event carries no refs and no Prow job configuration is configured ({Configuration.KfciEnvironment.ProwJobs}) to look it up in");
        }

        try
        {
            var periodic = (await configured.LoadAsync(cancellationToken)).Find(name);
            return periodic.ExtraRefs.Count > 0
                ? periodic
                : throw new RunPlanningException($"periodic job {name} in {configured.Location} has no extra_refs, so kfci has no repository to read prow_config.yaml from");
        }
        catch (Exception e) when (e is ProwJobConfigException or InvalidDataException || IsRefusal(e))
        {
            throw new RunPlanningException(e.Message.ReplaceLineEndings(" "), e);
        }
    }

    /// <summary>
    /// The job configuration, made when a periodic first needs it: a bad <c>KFCI_PROW_JOBS</c> fails the named periodics
    /// with its reason, not the Trigger's start and with it every presubmit.
    /// </summary>
    private ProwJobConfigSource? Configured(string name)
    {
        try
        {
            return prowJobs.Value;
        }
        catch (InvalidOperationException e)
        {
            throw new RunPlanningException($"periodic job {name} cannot be looked up: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    /// <summary>The refs with <c>base_sha</c> set to the head of <c>base_ref</c>, when only the branch was named.</summary>
    private async Task<Refs> PinAsync(Refs refs, List<string> notes, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(refs.BaseSha))
        {
            return refs;
        }

        var repository = new RepositoryName(refs.Org, refs.Repo);
        if (string.IsNullOrEmpty(refs.BaseRef))
        {
            throw new RunPlanningException($"refs for {repository} name neither base_ref nor base_sha: there is no commit to test");
        }

        try
        {
            var sha = await source.ResolveBranchAsync(repository, refs.BaseRef, cancellationToken);
            notes.Add($"{repository} branch {refs.BaseRef} resolved to {sha}");
            return refs with { BaseSha = sha };
        }
        catch (Exception e) when (e is SourceNotFoundException or ArgumentException or InvalidDataException || IsRefusal(e))
        {
            var reason = e.Message.ReplaceLineEndings(" ");
            throw new RunPlanningException(IsRefusal(e) ? $"cannot resolve branch '{refs.BaseRef}' of {repository}: {reason}" : reason, e);
        }
    }

    /// <summary>
    /// An answer no redelivery changes (403 "Resource not accessible by integration", 401 for a revoked token): the run
    /// records it as its reason, rather than the event failing until it is dead-lettered with none.
    /// </summary>
    private static bool IsRefusal(Exception e) => e is Kfci.Http.ApiException && !Kfci.Http.Transience.IsTransient(e);

    private static IEnumerable<Refs> AllRefs(ProwJobSpec job) => job.Refs is null ? job.ExtraRefs : [job.Refs, .. job.ExtraRefs];
}
