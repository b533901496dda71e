namespace Kfci.Runs;

/// <summary>
/// Where a run is in the chain. The wire form (<see cref="RunStates.ToWire"/>) is what Firestore holds in
/// <c>runs/{id}.state</c> and what the indexes in infra/terraform/firestore.tf query.
/// </summary>
public enum RunState
{
    /// <summary>The Trigger recorded the run and is submitting its workflows.</summary>
    Planning,

    /// <summary>Every selected workflow was submitted (or recorded as an error); the Watcher waits for them.</summary>
    Submitted,

    /// <summary>Every workflow finished; <c>run.completed</c> was published and the Uploader has the results to write.</summary>
    Completed,

    /// <summary>The Uploader wrote <c>finished.json</c>; <see cref="RunRecord.Result"/> holds the verdict.</summary>
    Finished,

    /// <summary>kfci could not run the job at all (invalid <c>prow_config.yaml</c>, missing file, ...); see <see cref="RunRecord.Errors"/>.</summary>
    Error,

    /// <summary>
    /// Prow aborted the build before any workflow was submitted: nothing to upload. A build aborted while its workflows
    /// ran is terminated, sets <see cref="RunRecord.AbortedAt"/>, and goes on to Finished with result ABORTED.
    /// </summary>
    Aborted,
}

/// <summary>Conversions between <see cref="RunState"/> and its lowercase wire form.</summary>
public static class RunStates
{
    public static string ToWire(this RunState state) => state switch
    {
        RunState.Planning => "planning",
        RunState.Submitted => "submitted",
        RunState.Completed => "completed",
        RunState.Finished => "finished",
        RunState.Error => "error",
        RunState.Aborted => "aborted",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown run state"),
    };

    /// <exception cref="FormatException">Not a run state.</exception>
    public static RunState Parse(string text) => TryParse(text, out var state)
        ? state
        : throw new FormatException($"unknown run state '{text}' (expected planning, submitted, completed, finished, error or aborted)");

    public static bool TryParse(string? text, out RunState state)
    {
        foreach (var candidate in Enum.GetValues<RunState>())
        {
            if (string.Equals(candidate.ToWire(), text, StringComparison.Ordinal))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }

    /// <summary>Finished, error and aborted runs never change state again.</summary>
    public static bool IsTerminal(this RunState state) => state is RunState.Finished or RunState.Error or RunState.Aborted;
}

/// <summary>Prow's verdicts in <c>finished.json</c>.</summary>
public static class RunResults
{
    public const string Success = "SUCCESS";
    public const string Failure = "FAILURE";
    public const string Aborted = "ABORTED";
}

/// <summary>
/// Argo workflow phases. A workflow is finished in <see cref="Succeeded"/>, <see cref="Failed"/> or
/// <see cref="Error"/>; kfci adds nothing else, and records a workflow that vanished as <see cref="Error"/>.
/// </summary>
public static class WorkflowPhases
{
    public const string Pending = "Pending";
    public const string Running = "Running";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Error = "Error";

    public static bool IsFinished(string? phase) => phase is Succeeded or Failed or Error;
}
