using Kfci.Runs;

namespace Kfci.Cli.Local;

/// <summary>
/// What a stop of the local stack leaves behind, and how the next start settles it. The Pub/Sub emulator keeps its
/// messages in memory only, so whatever was queued when it stopped is gone: a run the Trigger had recorded but not
/// yet submitted would wait for ever. Runs past submission need nothing here: the engine marks workflows it was
/// running as Error on start, and the Watcher's first tick records them and re-publishes completions.
/// </summary>
public static class LocalRecovery
{
    /// <summary>The note a run stuck before submission gets when the stack starts again.</summary>
    public const string InterruptedReason = "the local stack stopped before this run's workflows were submitted; 'kfci replay RUN' runs the job again";

    private static readonly RunState[] s_unfinished = [RunState.Planning, RunState.Submitted, RunState.Completed];

    /// <summary>Runs the chain is still working on (planning, waiting for workflows, or waiting for the upload), newest first.</summary>
    public static async Task<IReadOnlyList<RunRecord>> UnfinishedAsync(IRunStore runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var found = new List<RunRecord>();
        foreach (var state in s_unfinished)
        {
            found.AddRange(await runs.ListAsync(new RunQuery(State: state, Limit: 100), cancellationToken));
        }

        return [.. found.OrderByDescending(r => r.CreatedAt)];
    }

    /// <summary>
    /// Moves every run still planning from before <paramref name="stackStartedAt"/> to Error with
    /// <see cref="InterruptedReason"/>; returns their ids. Idempotent: a run already moved is not planning any more.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SettleInterruptedAsync(IRunStore runs, DateTimeOffset stackStartedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var settled = new List<string>();
        foreach (var run in await runs.ListAsync(new RunQuery(State: RunState.Planning, Limit: 100), cancellationToken))
        {
            if (run.CreatedAt >= stackStartedAt)
            {
                continue;
            }

            var updated = await runs.UpdateAsync(
                run.RunId,
                current => current.State != RunState.Planning ? null : current.MoveTo(RunState.Error, DateTimeOffset.UtcNow, InterruptedReason) with
                {
                    Errors = [.. current.Errors, InterruptedReason],
                },
                cancellationToken);
            if (updated?.State == RunState.Error)
            {
                settled.Add(run.RunId);
            }
        }

        return settled;
    }
}
