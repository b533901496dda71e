namespace Kfci.Runs;

/// <summary>
/// One run (one build of one Prow job) as Firestore holds it in <c>runs/{RunId}</c>: who it is, what the
/// plan decided, the workflows and their outcomes, its state history and errors. Immutable: change it
/// with <c>with</c> inside <see cref="IRunStore.UpdateAsync"/>. Field names on the wire are the camelCase
/// property names (<see cref="RunDocument"/>).
/// </summary>
public sealed record RunRecord
{
    public required string RunId { get; init; }

    public required string JobName { get; init; }

    public required string BuildId { get; init; }

    /// <summary>Prow's spelling: presubmit, postsubmit, periodic or batch.</summary>
    public required string JobType { get; init; }

    /// <summary><c>JOB_SPEC</c>: Prow's JobSpec JSON, the source of every other Prow variable (<c>Kfci.Prow.ProwJobSpec.ToJson</c>).</summary>
    public required string JobSpec { get; init; }

    /// <summary><c>org/repo</c> of the code under test; null for a periodic without repositories.</summary>
    public string? Repo { get; init; }

    public string? BaseRef { get; init; }

    public string? BaseSha { get; init; }

    /// <summary>The first pull request's number (presubmits); null otherwise.</summary>
    public int? PullNumber { get; init; }

    public string? PullSha { get; init; }

    /// <summary>Extra environment from a trigger request's <c>envs</c>; empty, never null.</summary>
    public IReadOnlyDictionary<string, string> Envs { get; init; } = Empty;

    /// <summary>How the run was started: <c>crier</c> or <c>trigger</c>.</summary>
    public string Source { get; init; } = "trigger";

    /// <summary>
    /// Who owns the build folder (<see cref="BuildOwners"/>): <c>prow</c> for a crier report of a job Prow runs, whose pod
    /// and sidecar write the Prow metadata, so kfci writes only under <c>artifacts/</c>; <c>kfci</c> for trigger requests.
    /// </summary>
    public string Owner { get; init; } = BuildOwners.Kfci;

    /// <summary>True when Prow's pod owns the build folder and kfci may write only under its <c>artifacts/</c>.</summary>
    public bool IsProwOwned => Owner == BuildOwners.Prow;

    /// <summary>The Pub/Sub message id of the event that created the run.</summary>
    public string? EventId { get; init; }

    public RunState State { get; init; } = RunState.Planning;

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When the workflows were submitted.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>After this the Watcher stops the run's workflows and records them as timed out.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>When Prow reported the build aborted; the Trigger then terminated its workflows and the result is <c>ABORTED</c>.</summary>
    public DateTimeOffset? AbortedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Every <c>prow_config.yaml</c> entry with its decision, in config order.</summary>
    public IReadOnlyList<PlannedEntry> Plan { get; init; } = [];

    /// <summary>The workflows this run submits (selected and supported entries), in config order.</summary>
    public IReadOnlyList<WorkflowRecord> Workflows { get; init; } = [];

    /// <summary>One line each: why the run, or an entry of it, could not run.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    public IReadOnlyList<RunHistoryEntry> History { get; init; } = [];

    /// <summary><c>SUCCESS</c>, <c>FAILURE</c> or <c>ABORTED</c> once finished (<see cref="RunResults"/>).</summary>
    public string? Result { get; init; }

    /// <summary>Where the results are: <c>gs://bucket/logs/job/build</c>, or a directory locally.</summary>
    public string? ResultsPath { get; init; }

    /// <summary>Named links for people (e.g. <c>spyglass</c>, <c>argo</c>).</summary>
    public IReadOnlyDictionary<string, string> Links { get; init; } = Empty;

    /// <summary>The workflow with this name, or null.</summary>
    public WorkflowRecord? Workflow(string name) => Workflows.FirstOrDefault(w => w.Name == name);

    /// <summary>True when there is at least one workflow and every one has a finished phase.</summary>
    public bool AllWorkflowsFinished => Workflows.Count > 0 && Workflows.All(w => WorkflowPhases.IsFinished(w.Phase));

    /// <summary>This run in <paramref name="state"/>, with the transition appended to the history.</summary>
    public RunRecord MoveTo(RunState state, DateTimeOffset at, string? note = null) => this with
    {
        State = state,
        UpdatedAt = at,
        History = [.. History, new RunHistoryEntry(state, at, note)],
    };

    /// <summary>This run with <paramref name="workflow"/> replacing the one of the same name (or appended).</summary>
    public RunRecord WithWorkflow(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var found = false;
        var list = Workflows.Select(w =>
        {
            if (w.Name != workflow.Name)
            {
                return w;
            }

            found = true;
            return workflow;
        }).ToList();
        if (!found)
        {
            list.Add(workflow);
        }

        return this with { Workflows = list };
    }

    internal static IReadOnlyDictionary<string, string> Empty { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>Who owns a run's build folder in the results bucket.</summary>
public static class BuildOwners
{
    /// <summary>Prow's pod and sidecar: kfci writes only under the build's <c>artifacts/</c>.</summary>
    public const string Prow = "prow";

    /// <summary>kfci writes the whole build folder, the Prow metadata included.</summary>
    public const string Kfci = "kfci";

    /// <summary>The owner a run started from this source has: crier reports are Prow's builds, the rest kfci's.</summary>
    public static string ForSource(string source) => source == "crier" ? Prow : Kfci;
}

/// <summary>One <c>prow_config.yaml</c> entry's decision, as <c>kfci plan</c> prints it.</summary>
public sealed record PlannedEntry(int Index, string Name, bool Selected, bool Supported, string Reason, string? WorkflowName);

/// <summary>A state transition of a run.</summary>
public sealed record RunHistoryEntry(RunState State, DateTimeOffset At, string? Note);

/// <summary>One workflow of a run and, once finished, its outcome.</summary>
public sealed record WorkflowRecord
{
    /// <summary>The Kubernetes name (<c>metadata.name</c>).</summary>
    public required string Name { get; init; }

    public required string Namespace { get; init; }

    /// <summary>The <c>prow_config.yaml</c> entry it came from: its <c>name</c> and index.</summary>
    public required string EntryName { get; init; }

    public required int EntryIndex { get; init; }

    /// <summary>
    /// The entry's <c>test_target_name</c> (Kubeflow's TestGrid target), when it set one. Junit suite names come from it,
    /// else from <see cref="EntryName"/>: both are the same for every build of a job, unlike <see cref="Name"/>.
    /// </summary>
    public string? TestTarget { get; init; }

    /// <summary>The name TestGrid keeps this workflow's rows under: <see cref="TestTarget"/>, else <see cref="EntryName"/>.</summary>
    public string StableName => string.IsNullOrEmpty(TestTarget) ? EntryName : TestTarget;

    /// <summary>True once the cluster accepted it (or already had it).</summary>
    public bool Submitted { get; init; }

    /// <summary>Argo's phase as last recorded (<see cref="WorkflowPhases"/>); null until the Watcher saw it.</summary>
    public string? Phase { get; init; }

    public string? Message { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The Pod nodes that failed or errored.</summary>
    public IReadOnlyList<FailedNode> FailedNodes { get; init; } = [];

    /// <summary>Argo UI link to the workflow, when a UI address is configured.</summary>
    public string? UiLink { get; init; }

    public bool IsFinished => WorkflowPhases.IsFinished(Phase);
}

/// <summary>A failed or errored node of a workflow (Argo's <c>status.nodes[id]</c>).</summary>
public sealed record FailedNode(string Id, string Name, string DisplayName, string Phase, string? Message);
