using Kfci.Runs;

namespace Kfci.Tests.Runs;

/// <summary>Runs for tests, shaped as the Trigger leaves them. Times are whole microseconds (Firestore's precision).</summary>
internal static class SampleRuns
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 22, 5, 0, 0, TimeSpan.Zero);

    /// <summary>A Submitted run whose workflows are named <c>{runId}-{entry}</c> in <paramref name="ns"/>.</summary>
    public static RunRecord Submitted(string runId, string ns, DateTimeOffset? startedAt = null, params string[] entries) => new()
    {
        RunId = runId,
        JobName = "kubeflow-presubmit",
        BuildId = runId,
        JobType = "presubmit",
        JobSpec = """{"type":"presubmit","job":"kubeflow-presubmit"}""",
        State = RunState.Submitted,
        CreatedAt = startedAt ?? Epoch,
        UpdatedAt = startedAt ?? Epoch,
        StartedAt = startedAt ?? Epoch,
        Workflows = [.. (entries.Length == 0 ? ["e2e"] : entries).Select((e, i) => new WorkflowRecord
        {
            Name = $"{runId}-{e}",
            Namespace = ns,
            EntryName = e,
            EntryIndex = i,
            Submitted = true,
        })],
        History = [new RunHistoryEntry(RunState.Planning, startedAt ?? Epoch, null), new RunHistoryEntry(RunState.Submitted, startedAt ?? Epoch, null)],
    };
}
